"""Wire shapes of the query API (docs/conventions.md, "Names and wire shapes"): its query parameters and answers.

The answers' schemas document what projections/api.py builds itself (`_summary`, `_entry`, `_answer`); those
endpoints return a ready HttpResponse, which ninja passes through unvalidated, so a schema here costs the hot
reads nothing. tests/test_openapi.py and tests/test_fuzz.py check the real answers against these schemas.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from gateway.schemas import DateTime, EventOut
from projections.status import Status

# --- query parameters --------------------------------------------------------------------------------


class ListQuery(Schema):
    q: str = Field("", max_length=200, description="words or an account id prefix; prefix matching")
    status: str = Field("", pattern="^(|open|frozen|closed)$")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=500)


class ReadQuery(Schema):
    min_position: int | None = Field(None, ge=0, description="wait (up to 2 s) until this command's effect is in")


class LedgerQuery(ReadQuery):
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=500)


class EventsQuery(Schema):
    after_position: int = Field(0, ge=0)
    limit: int = Field(50, ge=1, le=500)


class NotificationQuery(Schema):
    status: str = Field("", pattern="^(|pending|sending|sent|failed)$")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=500)


# --- answers -----------------------------------------------------------------------------------------

_AMOUNT = "a decimal string with the currency's decimals, like every amount in this API"
_CURSOR = "pass it back as `cursor` for the next page; null on the last page"


class Freshness(Schema):
    """What every read-model answer adds: the position it reflects (also the `X-Projection-Position` header)."""

    projection_position: int = Field(description="the global position the read model had reached")
    stale: bool = Field(description="true when a `min_position` wait ran out before the read model reached it")


class AccountSummary(Schema):
    account_id: UUID
    holder_name: str
    email: str
    owner: str = Field(description="username of the account's owner")
    status: Literal["open", "frozen", "closed"]
    currency: str = Field(description="ISO 4217 code")
    balance: str = Field(description=_AMOUNT)
    overdraft_limit: str = Field(description=_AMOUNT)
    version: int = Field(description="the stream version the summary reflects; the `ETag` of the account")
    opened_at: str = Field(description="ISO 8601 date and time, with a space before the time")
    updated_at: str = Field(description="ISO 8601 date and time (of the last event), with a space before the time")


class AccountDetail(Freshness, AccountSummary):
    """One account's summary (GET /api/accounts/{account_id})."""


class AccountPage(Freshness):
    items: list[AccountSummary]
    next_cursor: str | None = Field(description=_CURSOR)


class LedgerEntry(Schema):
    version: int = Field(description="the stream version of the event that moved the money")
    position: int = Field(description="the global position of that event")
    kind: Literal["deposit", "withdrawal", "transfer_in", "transfer_out"]
    currency: str
    reference: str
    amount: str = Field(description=f"signed: credits positive, debits negative; {_AMOUNT}")
    balance_after: str = Field(description=_AMOUNT)
    counterparty: UUID | None = Field(description="the other account of a transfer; null otherwise")
    transfer_id: UUID | None = Field(description="null unless a transfer")
    recorded_at: DateTime


class LedgerPage(Freshness):
    items: list[LedgerEntry] = Field(description="newest first")
    next_cursor: str | None = Field(description=_CURSOR)


class GlobalEventPage(Schema):
    items: list[EventOut] = Field(description="in reader order: positions only go up")
    head_position: int = Field(description="the position of the newest event readers can see")
    next_cursor: str | None = Field(
        description="the last item's position, when the page is full; ask for the next with `after_position`"
    )


class NotificationOut(Schema):
    id: int
    position: int = Field(description="of the event that caused it")
    kind: Literal["large_withdrawal", "large_transfer"]
    account_id: UUID
    amount: str = Field(description=_AMOUNT)
    currency: str
    status: Literal["pending", "sending", "sent", "failed"]
    attempts: int
    last_error: str
    sent_at: DateTime | None


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None = Field(description=_CURSOR)


class ProjectorStatusOut(Schema):
    name: str
    status: Status
    checkpoint: int = Field(description="the position of the last event applied")
    head_position: int
    lag_events: int
    lag_seconds: float = Field(description="the age of the oldest event not applied yet")
    last_error: str
    failed_position: int | None = Field(description="the poison event's position while the projector is failed")
    applied_events: int
    rebuildable: bool = Field(description="false for an outbox (notifications), which is never rebuilt")
