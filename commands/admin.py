"""Idempotency records in the admin, read-only (what a retried request would get back)."""

from __future__ import annotations

from django.contrib import admin

from commands.models import IdempotencyRecord
from eventstore.admin import ReadOnlyAdmin, abbreviated, when


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ("short_key", "user", "status", "created")
    search_fields = ("key",)

    @admin.display(description="key", ordering="key")
    def short_key(self, record: IdempotencyRecord) -> str:
        return abbreviated(record.key, keep=13)

    @admin.display(description="created at", ordering="created_at")
    def created(self, record: IdempotencyRecord) -> str:
        return when(record.created_at)
