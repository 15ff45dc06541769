"""What a projector is: a name, the tables it owns, and `apply` for a batch of events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventstore.records import Recorded
from projections.target import Target

Apply = Callable[[Any, Sequence[Recorded], Target], None]


@dataclass(frozen=True)
class Projector:
    """`apply(cursor, events, target)` writes the batch into `target`'s tables with bulk SQL.

    Contract: it writes only its own tables; it is idempotent (re-applying events it has applied changes
    nothing, because each row remembers the version or position it reflects); it ignores event types that
    are not its business; an exception means the batch is poison (the runner rolls it back and marks the
    projector failed at the event that raised). `compare` lists, per table, the columns that identify a row
    for verify_projections; columns in `ignore` (surrogate keys) are left out of the comparison.
    """

    name: str
    tables: tuple[str, ...]
    apply: Apply
    serves: str
    compare: dict[str, tuple[str, ...]]
    ignore: dict[str, tuple[str, ...]] = field(default_factory=dict)
