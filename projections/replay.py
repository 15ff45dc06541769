"""Re-apply a range of the global log to one projector's live tables (`manage.py replay --projection`).

Rows that already reflect an event are left as they are (projectors skip them in replay mode), so a replay
only fills in what a row is missing; to recompute wrong values, rebuild. Events above the projector's
checkpoint are applied in order and move the checkpoint with them, in the same transaction, exactly as the
runner would. A range that starts above the checkpoint would leave the events in between out: it is refused
unless forced, and then those events are skipped for this projector (logged, like `projections skip`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction

from eventstore import store
from projections import checkpoints
from projections.operations import OperationError, record
from projections.projector import Projector
from projections.runner import BATCH_SIZE, lock_blocking
from projections.target import LIVE


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    projector: str
    first: int
    last: int
    checkpoint: int
    events: int  # in [first, last]
    skipped: int  # not yet applied, between the checkpoint and `first`: left out by a forced replay

    def describe(self) -> str:
        text = f"{self.events:,} events (positions {self.first}..{self.last}) into {self.projector}"
        if self.last > self.checkpoint:
            text += f"; the checkpoint moves from {self.checkpoint} to the range's last event"
        if self.skipped:
            text += f"; {self.skipped:,} events between the checkpoint and {self.first} would be skipped for good"
        return text


def plan(projector: Projector, *, first: int, last: int) -> ReplayPlan:
    reached = checkpoints.position(projector.name)
    skipped = store.count_between(reached, first) if first > reached else 0
    return ReplayPlan(projector.name, first, last, reached, store.count_between(first - 1, last + 1), skipped)


def replay(
    projector: Projector,
    *,
    first: int,
    last: int,
    user: str,
    force: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Apply the events with positions in [first, last]; returns how many were passed to the projector.

    Raises OperationError, before anything is applied, when unapplied events lie between the checkpoint and
    `first` and `force` is not given. Each batch is its own transaction, under the projector's lock.
    """
    intended = plan(projector, first=first, last=last)
    if intended.skipped and not force:
        raise OperationError(
            f"{intended.skipped:,} events between {projector.name}'s checkpoint ({intended.checkpoint}) and"
            f" position {first} are not applied yet, and replaying from {first} would leave them out; replay from"
            f" {intended.checkpoint + 1} instead, or pass --force to skip them for this projector"
        )
    checkpoints.ensure(projector.name)
    total, after = 0, first - 1
    while events := store.read_range(first, last, after=after, limit=batch_size):
        with transaction.atomic(), connection.cursor() as cursor:
            lock_blocking(projector.name)
            reached = checkpoints.position(projector.name)
            projector.apply(cursor, events, LIVE, replay=True)
            if events[-1].position > reached:
                newly = sum(event.position > reached for event in events)
                checkpoints.advance_replayed(cursor, projector.name, reached, events[-1].position, newly)
        total, after = total + len(events), events[-1].position
        if progress:
            progress(total)
    record(user, "replay", projector.name, first=first, last=last, events=total, skipped=intended.skipped)
    return total
