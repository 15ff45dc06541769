"""How each kind of stream folds into the state its snapshots hold, registered by the app that owns it.

The store keeps snapshots without knowing what they mean; `verify_eventstore` re-folds every stream and
compares each snapshot with the state at its version. The owning app registers, in its AppConfig.ready(),
the stream-name prefix, the state schema number, the initial state and `evolve(state, event) -> state`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class StateFold:
    stream_prefix: str
    schema: int
    initial: object
    evolve: Callable[[Any, Any], Any]


_FOLDS: dict[tuple[str, int], StateFold] = {}


def register(*, stream_prefix: str, schema: int, initial: object, evolve: Callable[[Any, Any], Any]) -> None:
    """Register (or re-register, as a test may) the fold for streams named `stream_prefix...` at `schema`."""
    _FOLDS[(stream_prefix, schema)] = StateFold(stream_prefix, schema, initial, evolve)


def for_stream(stream_id: str) -> list[StateFold]:
    """Every registered fold that applies to this stream (one per state schema)."""
    return [fold for (prefix, _), fold in _FOLDS.items() if stream_id.startswith(prefix)]
