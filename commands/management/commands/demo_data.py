"""manage.py demo_data: the demo users and roles. Safe to run again: it updates rather than duplicates."""

from __future__ import annotations

import os
import uuid
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from commands import calls, services
from commands.domain import accounts
from commands.domain.access import Actor
from gateway.roles import ensure_groups

# username -> (role group or None, is_staff, is_superuser). Staff only opens the Django admin's door (the
# audit trail) and django-rq's dashboard; what anyone may do comes from the role's permissions.
USERS: dict[str, tuple[str | None, bool, bool]] = {
    "admin": (None, True, True),
    "teller": ("teller", False, False),
    "auditor": ("auditor", True, False),
    "operator": ("operator", True, False),
    "alice": ("customer", False, False),
    "bob": ("customer", False, False),
}


class Command(BaseCommand):
    help = (
        "Create (or refresh) the demo users admin, teller, auditor, operator, alice and bob and the role groups; with "
        "--with-accounts and an empty store, also a few accounts with some history."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", help="the demo password (default: $DEMO_PASSWORD)")
        parser.add_argument(
            "--with-accounts", action="store_true", help="also open a few accounts with history, if there are none"
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"] or os.environ.get("DEMO_PASSWORD")
        if not password:
            raise CommandError("give --password or set DEMO_PASSWORD")
        groups = ensure_groups()
        for username, (role, is_staff, is_superuser) in USERS.items():
            user, _ = User.objects.update_or_create(
                username=username,
                defaults={
                    "is_staff": is_staff,
                    "is_superuser": is_superuser,
                    "email": f"{username}@example.com",
                },
            )
            user.set_password(password)
            user.save(update_fields=["password"])
            user.groups.set([groups[role]] if role else [])
        self.stdout.write(f"demo users ready: {', '.join(USERS)}")
        if options["with_accounts"] and not _has_accounts():
            _demo_accounts()
            self.stdout.write("demo accounts opened for alice and bob")


def _has_accounts() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM events WHERE type = 'AccountOpened')")
        return bool(cursor.fetchone()[0])


def _demo_accounts() -> None:
    """A little history, made through the services like any teller's work, so every page has something."""
    context = calls.CommandContext(
        actor=Actor("teller", frozenset({"teller"})), correlation_id=str(uuid.uuid4()), request_id="demo-data"
    )
    now = timezone.now()

    def open_(owner: str, holder: str, overdraft: int = 0) -> uuid.UUID:
        account_id = uuid.uuid4()
        command = accounts.OpenAccount(
            account_id=account_id,
            holder_name=holder,
            email=f"{owner}@example.com",
            currency="EUR",
            overdraft_limit=overdraft,
            owner=owner,
            now=now,
        )
        services.account_open(command=command, context=context)
        return account_id

    alice, savings, bob = (
        open_("alice", "Alice Liddell", 50_000),
        open_("alice", "Alice Liddell"),
        open_("bob", "Bob Builder"),
    )
    for account_id, amount, reference in (
        (alice, 125_000, "salary"),
        (savings, 500_000, "opening balance"),
        (bob, 30_000, "cash"),
    ):
        services.account_deposit(
            command=accounts.Deposit(account_id=account_id, amount=amount, reference=reference, now=now),
            context=context,
        )
    services.account_withdraw(
        command=accounts.Withdraw(account_id=alice, amount=8_000, reference="groceries", now=now), context=context
    )
    services.transfer_execute(
        command=accounts.Transfer(
            transfer_id=uuid.uuid4(), from_account=alice, to_account=bob, amount=4_550, reference="dinner", now=now
        ),
        context=context,
    )
