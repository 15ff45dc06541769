"""manage.py demo_data: the demo users and roles. Safe to run again: it updates rather than duplicates."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

ROLES = ("teller", "auditor", "customer")
# username -> (role group or None, is_staff, is_superuser)
USERS: dict[str, tuple[str | None, bool, bool]] = {
    "admin": (None, True, True),
    "teller": ("teller", True, False),
    "auditor": ("auditor", True, False),
    "alice": ("customer", False, False),
    "bob": ("customer", False, False),
}


class Command(BaseCommand):
    help = "Create (or refresh) the demo users admin, teller, auditor, alice and bob and the role groups."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", help="the demo password (default: $DEMO_PASSWORD)")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"] or os.environ.get("DEMO_PASSWORD")
        if not password:
            raise CommandError("give --password or set DEMO_PASSWORD")
        groups = {name: Group.objects.get_or_create(name=name)[0] for name in ROLES}
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
