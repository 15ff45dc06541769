"""PostgreSQL array literals for the store's parameters.

psycopg inspects every list it is given to choose a dumper for its elements, about 20 µs per list; an append
passes ten, which was a third of its client time (bench B1). The store's arrays have fixed element types, so
their text form is built here and the SQL casts it (`%s::jsonb[]`). Elements are quoted and escaped as the
array input syntax requires, so any text (quotes, backslashes, braces, commas) round-trips; `None` is NULL.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any


def text_array(values: Iterable[str | None]) -> str:
    """For text[], jsonb[] (JSON documents as text) and the like."""
    return "{" + ",".join("NULL" if value is None else _quoted(value) for value in values) + "}"


def int_array(values: Iterable[int | None]) -> str:
    """For integer[], smallint[] and bigint[]."""
    return "{" + ",".join("NULL" if value is None else str(int(value)) for value in values) + "}"


def bytea_array(values: Iterable[bytes]) -> str:
    """For bytea[]: each element in hex form (`\\x...`, its backslash escaped for the array syntax)."""
    return "{" + ",".join('"\\\\x' + value.hex() + '"' for value in values) + "}"


def any_array(values: Iterable[Any]) -> str:
    """For a column of any element type whose text form PostgreSQL reads: str, int, bool, UUID, date,
    datetime (ISO 8601, so a time zone is kept), None (NULL); anything else by str(). Used by the projectors'
    bulk statements, a column at a time (psycopg's own list dumper scans and quotes element by element in
    Python: a fifth of a rebuild's time, bench B7)."""
    return (
        "{" + ",".join("NULL" if value is None else _FORMATS.get(type(value), _other)(value) for value in values) + "}"
    )


def _other(value: Any) -> str:
    if isinstance(value, date):  # a subclass of date or datetime
        return _quoted(value.isoformat())
    return _quoted(str(value))


_FORMATS: dict[type, Callable[[Any], str]] = {
    str: lambda value: _quoted(value),
    int: str,
    bool: lambda value: "t" if value else "f",
    uuid.UUID: str,
    date: lambda value: value.isoformat(),
    datetime: lambda value: '"' + value.isoformat() + '"',
}


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
