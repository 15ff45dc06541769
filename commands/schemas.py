"""Wire shapes of the command API (docs/conventions.md, "Names and wire shapes"). Unknown fields are refused (400)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Field

from gateway.schemas import DateTime, EventOut

_AMOUNT = "a decimal string with the currency's decimals, like every amount in this API"


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class TokenIn(Strict):
    username: str = Field(max_length=150)
    password: str = Field(max_length=1000)


class TokenOut(Schema):
    access: str = Field(description="a JWT: send it as `Authorization: Bearer <access>`")
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="seconds until the token expires")


class OpenAccountIn(Strict):
    holder_name: str = Field(description="1-200 characters, no control characters")
    email: str
    currency: str = Field("EUR", description="ISO 4217 code")
    overdraft_limit: str = Field("0.00", description="decimal string, >= 0")
    owner: str | None = Field(None, description="username of the owner; tellers only (a customer owns it)")


class AmountIn(Strict):
    amount: str = Field(description='decimal string with at most the currency\'s decimals, e.g. "12.34"')
    reference: str = Field("", max_length=1000)
    expected_version: int | None = Field(None, ge=0, description='or If-Match: "<version>"')


class FreezeIn(Strict):
    reason: str
    expected_version: int | None = Field(None, ge=0)


class VersionOnlyIn(Strict):
    expected_version: int | None = Field(None, ge=0)


class HolderIn(Strict):
    holder_name: str | None = None
    email: str | None = None
    expected_version: int | None = Field(None, ge=0)


class TransferIn(Strict):
    from_account: UUID
    to_account: UUID
    amount: str
    reference: str = Field("", max_length=1000)
    from_expected_version: int | None = Field(None, ge=0, description="or If-Match for the source account")
    to_expected_version: int | None = Field(None, ge=0)


_POSITION = "the global position of the last event written: pass it as `min_position` to read your write"


class AccountAccepted(Schema):
    account_id: UUID
    version: int = Field(description="the account stream's new version (also the `ETag`)")
    position: int = Field(description=_POSITION)
    correlation_id: str = Field(description="the request's correlation id, in every event's metadata")


class TransferAccepted(Schema):
    transfer_id: UUID
    versions: dict[UUID, int] = Field(
        description="each account's new stream version, keyed by account id: the source and the destination"
    )
    position: int = Field(description=_POSITION)
    correlation_id: str = Field(description="the request's correlation id, in every event's metadata")


class PageQuery(Schema):
    cursor: str | None = Field(None, description="`next_cursor` of the previous page")
    limit: int = Field(50, ge=1, le=500)


class PointQuery(Schema):
    version: int | None = Field(None, ge=1, description="the state after this version")
    at: str | None = Field(None, description="ISO 8601 date-time: the state at that moment")


class EventPage(Schema):
    items: list[EventOut] = Field(description="oldest first")
    next_cursor: str | None = Field(description="pass it back as `cursor` for the next page; null on the last page")


class AccountStateOut(Schema):
    """The account folded from its events up to a version or a moment."""

    account_id: UUID
    version: int = Field(description="the last event folded in")
    position: int = Field(description="that event's global position")
    recorded_at: DateTime = Field(description="that event's moment")
    status: Literal["open", "frozen", "closed"]
    balance: str = Field(description=_AMOUNT)
    currency: str = Field(description="ISO 4217 code")
    overdraft_limit: str = Field(description=_AMOUNT)
    owner: str = Field(description="username of the account's owner")
    holder_name: str
    email: str
    frozen_reason: str = Field(description="empty unless frozen")
