"""What a projector is: a name, the tables it owns, and `apply` for a batch of events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from eventstore.records import Recorded
from projections.target import Target


class Apply(Protocol):
    def __call__(self, cursor: Any, events: Sequence[Recorded], target: Target, *, replay: bool = False) -> None: ...


class OutOfOrder(Exception):
    """An event that is not the next one for the read-model row it changes: a gap (an event was never applied)
    or a step back (one is applied again). The runner marks the projector failed at it: applying past it would
    make the row silently wrong."""

    def __init__(self, recorded: Recorded, detail: str) -> None:
        super().__init__(
            f"{recorded.stream_id} version {recorded.version} (position {recorded.position}) is out of order:"
            f" {detail}; the projector stops here rather than apply past it"
        )


@dataclass(frozen=True)
class Projector:
    """`apply(cursor, events, target)` writes the batch into `target`'s tables with bulk SQL.

    Contract: it writes only its own tables; events arrive in position order, and each must be the next one
    for the rows it changes (each row remembers the stream version or position it reflects), else it raises
    OutOfOrder; with `replay=True` (an operator re-applying a range) events a row already reflects are skipped
    instead. It ignores event types that are not its business. Any exception means the batch is poison (the
    runner rolls it back and marks the projector failed at the event that raised). `compare` lists, per
    table, the columns that identify a row for verify_projections; columns in `ignore` (surrogate keys,
    watermarks) are left out of the comparison.
    """

    name: str
    tables: tuple[str, ...]
    apply: Apply
    serves: str
    compare: dict[str, tuple[str, ...]]
    ignore: dict[str, tuple[str, ...]] = field(default_factory=dict)
    outbox: bool = False  # its rows are deliveries, not a view: never rebuilt by a table swap
