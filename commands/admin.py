"""Idempotency records in the admin, read-only (what a retried request would get back)."""

from __future__ import annotations

from django.contrib import admin

from commands.models import IdempotencyRecord
from eventstore.admin import ReadOnlyAdmin


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ("key", "user", "status", "created_at")
    search_fields = ("key",)
