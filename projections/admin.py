"""Read models and the operator-action log in the admin, read-only. Ids and long text are abbreviated in the
lists (whole in their tooltip and on the detail page), so each list fits the screen."""

from __future__ import annotations

from django.contrib import admin

from eventstore.admin import ReadOnlyAdmin, abbreviated, when
from projections import models


@admin.register(models.OperatorAction)
class OperatorActionAdmin(ReadOnlyAdmin):
    list_display = ("moment", "user", "action", "projector", "details")
    list_filter = ("action", "projector")
    date_hierarchy = "at"

    @admin.display(description="at", ordering="at")
    def moment(self, action: models.OperatorAction) -> str:
        return when(action.at)

    @admin.display(description="detail")
    def details(self, action: models.OperatorAction) -> str:
        return abbreviated(action.detail, keep=60)


@admin.register(models.ProjectionCheckpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ("name", "position", "applied_events", "failed_position", "rebuilding", "updated")

    @admin.display(description="updated at", ordering="updated_at")
    def updated(self, checkpoint: models.ProjectionCheckpoint) -> str:
        return when(checkpoint.updated_at)


@admin.register(models.AccountSummary)
class AccountSummaryAdmin(ReadOnlyAdmin):
    list_display = ("holder_name", "account", "owner", "status", "currency", "balance", "version")
    list_filter = ("status", "currency")
    search_fields = ("holder_name", "email", "owner")

    @admin.display(description="account id", ordering="account_id")
    def account(self, row: models.AccountSummary) -> str:
        return abbreviated(row.account_id)


@admin.register(models.LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("account", "version", "kind", "amount", "balance_after", "short_reference", "recorded")
    list_filter = ("kind",)
    search_fields = ("reference",)

    @admin.display(description="account id", ordering="account_id")
    def account(self, entry: models.LedgerEntry) -> str:
        return abbreviated(entry.account_id)

    @admin.display(description="reference", ordering="reference")
    def short_reference(self, entry: models.LedgerEntry) -> str:
        return abbreviated(entry.reference, keep=30)

    @admin.display(description="recorded at", ordering="recorded_at")
    def recorded(self, entry: models.LedgerEntry) -> str:
        return when(entry.recorded_at)


@admin.register(models.AccountSearch)
class AccountSearchAdmin(ReadOnlyAdmin):
    list_display = ("holder_name", "account", "status", "version")
    exclude = ("document",)

    @admin.display(description="account id", ordering="account_id")
    def account(self, row: models.AccountSearch) -> str:
        return abbreviated(row.account_id)


@admin.register(models.DailyTotal)
class DailyTotalAdmin(ReadOnlyAdmin):
    list_display = ("day", "currency", "deposits", "withdrawals", "transfers", "accounts_opened")
