"""manage.py revoke_tokens USERNAME: refuse every API token issued to the user until now (an operator action)."""

from __future__ import annotations

import getpass
import logging
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gateway.tokens import revoke

security = logging.getLogger("ledger.security")


class Command(BaseCommand):
    help = "Refuse every API token issued to USERNAME until now (a stolen token, a device lost). Logged."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--user", default=getpass.getuser(), help="who is acting (for the security log)")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user named {options['username']!r}", returncode=2)
        revoke(user)
        security.warning("api tokens revoked", extra={"username": user.get_username(), "by": options["user"]})
        self.stdout.write(f"every API token of {user.get_username()} issued until now is refused")
