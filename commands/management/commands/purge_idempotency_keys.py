"""manage.py purge_idempotency_keys: delete idempotency records older than the retention period."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from commands.idempotency import purge_expired


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than LEDGER_IDEMPOTENCY_RETENTION_HOURS. Safe to run any time."

    def handle(self, *args: Any, **options: Any) -> None:
        removed = purge_expired()
        hours = settings.LEDGER_IDEMPOTENCY_RETENTION_HOURS
        self.stdout.write(f"removed {removed} idempotency records older than {hours} hours")
