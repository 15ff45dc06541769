"""Wire shapes of the command API (DESIGN.md section 11). Unknown fields are refused (400)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Field


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class TokenIn(Strict):
    username: str = Field(max_length=150)
    password: str = Field(max_length=1000)


class TokenOut(Schema):
    access: str
    token_type: str = "Bearer"
    expires_in: int


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


class AccountAccepted(Schema):
    account_id: UUID
    version: int
    position: int
    correlation_id: str


class TransferAccepted(Schema):
    transfer_id: UUID
    versions: dict[str, int]
    position: int
    correlation_id: str


class PageQuery(Schema):
    cursor: str | None = Field(None, description="`next_cursor` of the previous page")
    limit: int = Field(50, ge=1, le=500)


class PointQuery(Schema):
    version: int | None = Field(None, ge=1, description="the state after this version")
    at: str | None = Field(None, description="ISO 8601 date-time: the state at that moment")


class EventOut(Schema):
    position: int
    stream_id: str
    version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: str
    hash: str


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None


class AccountStateOut(Schema):
    account_id: UUID
    version: int
    position: int
    recorded_at: str
    status: str
    balance: str
    currency: str
    overdraft_limit: str
    owner: str
    holder_name: str
    email: str
    frozen_reason: str
