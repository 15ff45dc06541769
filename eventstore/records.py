"""The value types the event store takes and returns. Plain frozen dataclasses, no database access."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class ConcurrencyError(Exception):
    """The stream was not at the expected version. Nothing was written.

    `actual` is the stream's committed version when the conflict was seen; the API maps this to 409, the UI
    to a conflict panel, and a service without an explicit expected version retries.
    """

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(f"{stream_id}: expected version {expected}, but the stream is at version {actual}")
        self.stream_id, self.expected, self.actual = stream_id, expected, actual


class StaleTransaction(ConcurrencyError):
    """This transaction is older than the one that wrote a stream's head: appending would put the stream's new
    version before its previous one in reader order. Nothing was written.

    Only a new transaction can append: roll back and run the command again (eventstore.transactions does).
    It is a ConcurrencyError so that, where nobody can retry, it is answered as a conflict (409).
    """

    def __init__(self, stream_id: str, version: int) -> None:
        Exception.__init__(
            self, f"{stream_id}: its head (version {version}) was written by a newer transaction; run again"
        )
        self.stream_id, self.expected, self.actual = stream_id, version, version


class UndecodableEvent(Exception):
    """A stored event that this code cannot decode; `decoded` holds the events before it in the batch."""

    def __init__(
        self, position: int, stream_id: str, version: int, type_name: str, error: Exception, decoded: list[Recorded]
    ) -> None:
        super().__init__(f"{type_name} event does not decode: {error}")
        self.position, self.stream_id, self.version, self.type_name = position, stream_id, version, type_name
        self.decoded = decoded


@dataclass(frozen=True, slots=True)
class Metadata:
    """Who and what caused an event; stored with every event as JSON."""

    correlation_id: str | None = None
    causation_id: str | None = None
    user: str | None = None
    command: str | None = None
    request_id: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        # Not dataclasses.asdict: it deep-copies, and this runs on every append.
        return {
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "user": self.user,
            "command": self.command,
            "request_id": self.request_id,
        }


@dataclass(frozen=True, slots=True)
class SnapshotState:
    """An aggregate's state after an append; the store keeps it when the snapshot policy says so."""

    state: object
    schema: int


@dataclass(frozen=True, slots=True)
class StreamAppend:
    """Events for one stream, expected to be at `expected_version` (0 for a new stream)."""

    stream_id: str
    events: Sequence[object]
    expected_version: int
    snapshot: SnapshotState | None = None
    subject: str | None = None  # whose personal data the events and snapshot hold (eventstore.personal)


@dataclass(frozen=True, slots=True)
class AppendResult:
    """The streams' new versions, and the global position of the last event written."""

    versions: dict[str, int]
    position: int
    recorded_at: datetime

    @property
    def version(self) -> int:
        """The new version when one stream was written."""
        (version,) = self.versions.values()
        return version


@dataclass(frozen=True, slots=True)
class Recorded:
    """A stored event: the decoded (and upcast) `event`, plus everything the store knows about it."""

    position: int
    stream_id: str
    version: int
    type: str
    schema_version: int
    event: object
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime
    hash: str

    def as_json(self) -> dict[str, Any]:
        """The wire shape (stored data, not the upcast event)."""
        return event_json(
            self.position,
            self.stream_id,
            self.version,
            self.type,
            self.schema_version,
            self.data,
            self.metadata,
            self.recorded_at,
            self.hash,
        )


def event_json(*row: Any) -> dict[str, Any]:
    """An event as JSON wherever it is shown or exported: {position, stream_id, version, type, schema_version,
    data, metadata, recorded_at, hash}, from a stored row in that column order."""
    position, stream_id, version, type_, schema_version, data, metadata, recorded_at, hash_ = row
    return {
        "position": position,
        "stream_id": stream_id,
        "version": version,
        "type": type_,
        "schema_version": schema_version,
        "data": data,
        "metadata": metadata,
        "recorded_at": recorded_at.isoformat(),
        "hash": hash_,
    }


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """A snapshot whose digest matched the hash of the event at its version when it was loaded."""

    version: int
    state: dict[str, Any]
    state_schema: int
    position: int  # of the event at `version`
    recorded_at: datetime  # of the event at `version`


@dataclass(frozen=True, slots=True)
class StreamHistory:
    """What `load` returns: the newest usable snapshot (if any) and the events after it, up to `version`."""

    stream_id: str
    version: int
    snapshot: StoredSnapshot | None = None
    events: list[Recorded] = field(default_factory=list)

    @property
    def position(self) -> int:
        """The global position of the stream's last loaded event (0 for an empty stream)."""
        if self.events:
            return self.events[-1].position
        return self.snapshot.position if self.snapshot else 0

    @property
    def recorded_at(self) -> datetime | None:
        """When the last loaded event was recorded (None for an empty stream)."""
        if self.events:
            return self.events[-1].recorded_at
        return self.snapshot.recorded_at if self.snapshot else None
