"""PostgreSQL array literals for the store's parameters.

psycopg inspects every list it is given to choose a dumper for its elements, about 20 µs per list; an append
passes ten, which was a third of its client time (bench B1). The store's arrays have fixed element types, so
their text form is built here and the SQL casts it (`%s::jsonb[]`). Elements are quoted and escaped as the
array input syntax requires, so any text (quotes, backslashes, braces, commas) round-trips; `None` is NULL.
"""

from __future__ import annotations

from collections.abc import Iterable


def text_array(values: Iterable[str | None]) -> str:
    """For text[], jsonb[] (JSON documents as text) and the like."""
    return "{" + ",".join("NULL" if value is None else _quoted(value) for value in values) + "}"


def int_array(values: Iterable[int | None]) -> str:
    """For integer[], smallint[] and bigint[]."""
    return "{" + ",".join("NULL" if value is None else str(int(value)) for value in values) + "}"


def bytea_array(values: Iterable[bytes]) -> str:
    """For bytea[]: each element in hex form (`\\x...`, its backslash escaped for the array syntax)."""
    return "{" + ",".join('"\\\\x' + value.hex() + '"' for value in values) + "}"


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
