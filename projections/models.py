"""Read models, projector checkpoints and the operator-action log.

Read-model rows are written only by their projector (projections/projectors/), with bulk SQL against a table
name the runner hands it, so that a rebuild can fill shadow tables and swap them in. Each row records the
stream `version` it reflects. Money is integer minor units, as in the events.
"""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models


class ProjectionCheckpoint(models.Model):
    """How far a projector has read the global log: the position of the last event it applied.

    Moved in the same transaction as the read-model rows it covers, so applying is exactly-once; and since no
    event can ever appear at or below a position a reader has seen, `position >= p` means exactly that the
    event at `p` is applied.
    """

    name = models.CharField(max_length=100, primary_key=True)
    position = models.BigIntegerField(default=0)
    applied_events = models.BigIntegerField(default=0)
    failed_position = models.BigIntegerField(null=True, blank=True)
    failed_event_type = models.TextField(blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    # An event that failed but has attempts left: where, how many times, and when to try it again.
    error_position = models.BigIntegerField(null=True, blank=True)
    error_count = models.IntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    rebuilding = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "projection_checkpoints"

    def __str__(self) -> str:
        return f"{self.name} @ {self.position}"


class OperatorAction(models.Model):
    """Every operator decision on projections: who, what, when, and the details."""

    at = models.DateTimeField(auto_now_add=True)
    user = models.CharField(max_length=150)
    action = models.CharField(max_length=50)
    projector = models.CharField(max_length=100, blank=True, default="")
    detail = models.JSONField(default=dict)

    class Meta:
        db_table = "projection_operator_actions"
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action} {self.projector}"


class AccountSummary(models.Model):
    """Projector `account_summaries`: one row per account."""

    account_id = models.UUIDField(primary_key=True)
    owner = models.CharField(max_length=150, db_index=True)
    holder_name = models.TextField()
    email = models.TextField()
    status = models.CharField(max_length=10)
    currency = models.CharField(max_length=3)
    balance = models.BigIntegerField()
    overdraft_limit = models.BigIntegerField()
    version = models.IntegerField()
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "account_summaries"
        verbose_name_plural = "account summaries"

    def __str__(self) -> str:
        return f"{self.holder_name} ({self.account_id})"


class LedgerEntry(models.Model):
    """Projector `ledger_entries`: one row per money movement, with the balance after it."""

    id = models.BigAutoField(primary_key=True)
    account_id = models.UUIDField()
    version = models.IntegerField()
    position = models.BigIntegerField()
    kind = models.CharField(max_length=20)  # deposit, withdrawal, transfer_in, transfer_out
    amount = models.BigIntegerField()  # signed: credits positive, debits negative
    balance_after = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reference = models.TextField(blank=True, default="")
    counterparty = models.UUIDField(null=True, blank=True)
    transfer_id = models.UUIDField(null=True, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        db_table = "ledger_entries"
        verbose_name_plural = "ledger entries"
        constraints = [models.UniqueConstraint(fields=["account_id", "version"], name="ledger_account_version")]

    def __str__(self) -> str:
        return f"{self.account_id}@{self.version} {self.kind} {self.amount}"


class LedgerHead(models.Model):
    """Projector `ledger_entries`: where each account's ledger stands (the last version seen, of any event
    type, and the running balance), so a gap in a stream is noticed even between money movements."""

    account_id = models.UUIDField(primary_key=True)
    version = models.IntegerField()
    balance = models.BigIntegerField()

    class Meta:
        db_table = "ledger_heads"

    def __str__(self) -> str:
        return f"{self.account_id}@{self.version}"


class AccountSearch(models.Model):
    """Projector `account_search`: full-text search over holder, email, id and references."""

    account_id = models.UUIDField(primary_key=True)
    owner = models.CharField(max_length=150)
    status = models.CharField(max_length=10)
    holder_name = models.TextField()
    email = models.TextField()
    reference_text = models.TextField(blank=True, default="")
    version = models.IntegerField()
    document = SearchVectorField()

    class Meta:
        db_table = "account_search"
        verbose_name_plural = "account search"  # one index, not "searchs"
        indexes = [GinIndex(fields=["document"], name="account_search_document")]

    def __str__(self) -> str:
        return self.holder_name


class DailyTotal(models.Model):
    """Projector `daily_totals`: per day and currency, what moved and how many accounts opened."""

    day = models.DateField()
    currency = models.CharField(max_length=3)
    deposits = models.BigIntegerField(default=0)
    deposit_count = models.IntegerField(default=0)
    withdrawals = models.BigIntegerField(default=0)
    withdrawal_count = models.IntegerField(default=0)
    transfers = models.BigIntegerField(default=0)
    transfer_count = models.IntegerField(default=0)
    accounts_opened = models.IntegerField(default=0)
    # The position of the last event counted into this row: a replay of it changes nothing.
    last_position = models.BigIntegerField(default=0)

    class Meta:
        db_table = "daily_totals"
        constraints = [models.UniqueConstraint(fields=["day", "currency"], name="daily_totals_day_currency")]

    def __str__(self) -> str:
        return f"{self.day} {self.currency}"


class NotificationAccount(models.Model):
    """Projector `notifications`: whom an account's notifications go to (its holder, as of each event)."""

    account_id = models.UUIDField(primary_key=True)
    holder_name = models.TextField()
    email = models.TextField()
    version = models.IntegerField()

    class Meta:
        db_table = "notification_accounts"

    def __str__(self) -> str:
        return f"{self.holder_name} <{self.email}>"


class Notification(models.Model):
    """Projector `notifications`: the outbox. One row per qualifying event (unique `position`), written in the
    projector's transaction with its checkpoint; projections.outbox delivers it and records the outcome."""

    id = models.BigAutoField(primary_key=True)
    position = models.BigIntegerField(unique=True)  # of the event: a replay can never add a second one
    kind = models.CharField(max_length=20)  # large_withdrawal, large_transfer
    account_id = models.UUIDField(db_index=True)
    amount = models.BigIntegerField()  # minor units
    currency = models.CharField(max_length=3)
    recipient = models.TextField()  # "Holder Name <email>"
    # Database defaults: the projector inserts rows with bulk SQL that names only what the event decides.
    status = models.CharField(max_length=10, db_default="pending")  # pending, sending, sent, failed
    attempts = models.IntegerField(db_default=0)
    last_error = models.TextField(blank=True, db_default="")
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "notifications"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notifications_due")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} ({self.status})"
