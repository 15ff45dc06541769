"""Read models and the operator-action log in the admin, read-only."""

from __future__ import annotations

from django.contrib import admin

from eventstore.admin import ReadOnlyAdmin
from projections import models


@admin.register(models.OperatorAction)
class OperatorActionAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "action", "projector", "detail")
    list_filter = ("action", "projector")
    date_hierarchy = "at"


@admin.register(models.ProjectionCheckpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ("name", "position", "applied_events", "failed_position", "rebuilding", "updated_at")


@admin.register(models.AccountSummary)
class AccountSummaryAdmin(ReadOnlyAdmin):
    list_display = ("holder_name", "account_id", "owner", "status", "currency", "balance", "version")
    list_filter = ("status", "currency")
    search_fields = ("holder_name", "email", "owner")


@admin.register(models.LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("account_id", "version", "kind", "amount", "balance_after", "reference", "recorded_at")
    list_filter = ("kind",)
    search_fields = ("reference",)


@admin.register(models.AccountSearch)
class AccountSearchAdmin(ReadOnlyAdmin):
    list_display = ("holder_name", "account_id", "status", "version")
    exclude = ("document",)


@admin.register(models.DailyTotal)
class DailyTotalAdmin(ReadOnlyAdmin):
    list_display = ("day", "currency", "deposits", "withdrawals", "transfers", "accounts_opened")
