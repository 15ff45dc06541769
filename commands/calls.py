"""What a service call takes besides its command, and what it answers (commands.services).

`CommandContext` says who acts in which request (it becomes every event's metadata); a `Draft` is a command to
complete from the state the service loads; `AccountResult` and `TransferResult` are what a caller needs to
read its own write: versions, the global position of the last event, the correlation id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID

from commands.domain.access import Actor
from commands.domain.accounts import Account
from eventstore.records import Metadata

C = TypeVar("C", covariant=True)


@dataclass(frozen=True, slots=True)
class CommandContext:
    """Who is acting and which request this is; becomes every event's metadata."""

    actor: Actor
    correlation_id: str
    request_id: str
    causation_id: str | None = None

    def metadata(self, command: object) -> Metadata:
        return Metadata(
            correlation_id=self.correlation_id,
            causation_id=self.causation_id or self.request_id,
            user=self.actor.username,
            command=type(command).__name__,
            request_id=self.request_id,
        )


@dataclass(frozen=True, slots=True)
class Draft(Generic[C]):
    """A command to complete from its account's state as loaded: an amount typed as text needs the account's
    currency. The service builds it under the stream's lock, after the access check, so a command reads its
    stream once. `build` may raise DomainError: a refusal like any other, nothing stored."""

    name: str
    account_id: UUID
    build: Callable[[Account], C]
    to_account: UUID | None = None  # a transfer's other account


@dataclass(frozen=True, slots=True)
class AccountResult:
    account_id: UUID
    version: int
    position: int
    correlation_id: str


@dataclass(frozen=True, slots=True)
class TransferResult:
    transfer_id: UUID
    versions: dict[UUID, int]
    position: int
    correlation_id: str
