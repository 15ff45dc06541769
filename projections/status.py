"""Where each projector stands: status, checkpoint, head, lag in events and seconds, last error."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from eventstore import store
from projections import checkpoints
from projections.registry import PROJECTORS

Status = Literal["running", "idle", "failed", "rebuilding"]


@dataclass(frozen=True, slots=True)
class ProjectorStatus:
    name: str
    status: Status
    checkpoint: int
    head_position: int
    lag_events: int
    lag_seconds: float
    last_error: str
    failed_position: int | None
    applied_events: int
    rebuildable: bool  # an outbox (notifications) is never rebuilt

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def projector_status(name: str) -> ProjectorStatus:
    """Reads only: a projector that has never run shows as at position 0."""
    at = checkpoints.read(name) or checkpoints.NEVER_RAN
    position, failed_position, last_error, rebuilding, applied = (
        at.position,
        at.failed_position,
        at.last_error,
        at.rebuilding,
        at.applied_events,
    )
    lag_events, oldest = store.backlog(position)
    lag_seconds = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
    status: Status = (
        "failed" if failed_position is not None else "rebuilding" if rebuilding else "running" if lag_events else "idle"
    )
    return ProjectorStatus(
        name=name,
        status=status,
        checkpoint=position,
        head_position=store.head_position(),
        lag_events=lag_events,
        lag_seconds=round(max(lag_seconds, 0.0), 3),
        last_error=last_error,
        failed_position=failed_position,
        applied_events=applied,
        rebuildable=not PROJECTORS[name].outbox if name in PROJECTORS else True,
    )


def all_statuses() -> list[ProjectorStatus]:
    return [projector_status(name) for name in PROJECTORS]


def checkpoint(name: str) -> int:
    """The position of the last event the projector applied (0 if it has never run). Reads only."""
    return checkpoints.position(name)


def has_reached(name: str, position: int) -> bool:
    """Whether the projector has applied the event at `position` (read-your-writes): no event can appear at
    or below a position a reader has passed, so this is one comparison."""
    return checkpoint(name) >= position


def have_reached(names: Sequence[str], position: int) -> bool:
    """has_reached for every one of `names`, in one query (a page polls it while it waits)."""
    return checkpoints.lowest(names) >= position
