"""A toy aggregate for testing the store without the banking domain: a tally of credits and debits."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import reduce
from typing import ClassVar

from eventstore.codec import codec


@dataclass(frozen=True, slots=True, kw_only=True)
class ToyCredited:
    schema_version: ClassVar[int] = 1
    amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ToyDebited:
    schema_version: ClassVar[int] = 1
    amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ToyRenamed:
    """v1 stored only `name`; v2 splits it into `first` and `last`."""

    schema_version: ClassVar[int] = 2
    first: str
    last: str


@dataclass(frozen=True, slots=True)
class Tally:
    balance: int = 0
    count: int = 0
    name: str = ""


STATE_SCHEMA = 1
ToyEvent = ToyCredited | ToyDebited | ToyRenamed


def evolve(state: Tally, event: object) -> Tally:
    match event:
        case ToyCredited(amount=amount):
            return replace(state, balance=state.balance + amount, count=state.count + 1)
        case ToyDebited(amount=amount):
            return replace(state, balance=state.balance - amount, count=state.count + 1)
        case ToyRenamed(first=first, last=last):
            return replace(state, name=f"{first} {last}", count=state.count + 1)
    raise TypeError(event)


def fold(events: list[object], state: Tally | None = None) -> Tally:
    return reduce(evolve, events, state or Tally())


@codec.upcaster("ToyRenamed", 1)
def _split_name(data: dict[str, object]) -> dict[str, object]:
    first, _, last = str(data.pop("name")).partition(" ")
    return {**data, "first": first, "last": last}


codec.register(ToyCredited, ToyDebited, ToyRenamed)
