"""`manage.py forget_customer ID`: erase a customer's personal data (commands.erasure).

Exit 0 with what was erased (also when it was erased before), 1 when no such customer has data here.
"""

from __future__ import annotations

import getpass
import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from commands.calls import CommandContext
from commands.domain.access import Actor
from commands.erasure import NothingToForget, customer_forget


class Command(BaseCommand):
    help = "Erase a customer's personal data: destroy their key and record the erasure on each of their accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("customer", help="the customer's username (the owner of their accounts)")
        parser.add_argument("--user", default=getpass.getuser(), help="who is acting (recorded in the events)")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor(f"cli:{options['user']}", frozenset({"operator"}))
        context = CommandContext(actor=actor, correlation_id=str(uuid.uuid4()), request_id="forget_customer")
        try:
            done = customer_forget(customer=options["customer"], context=context)
        except NothingToForget as exc:
            raise CommandError(str(exc)) from None
        if not done.accounts and not done.keys_destroyed:
            self.stdout.write(f"{done.customer}: erased before; nothing left to erase")
            return
        self.stdout.write(
            f"{done.customer}: erasure recorded on {len(done.accounts)} account(s), {done.keys_destroyed} key(s)"
            " destroyed; their holder details now read as 'erased'"
        )
