"""Rows written straight into `events`, as an older release (or a bug) could have left them: the store's own
append would refuse them. Only inside a test's rolled-back transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection

from eventstore.hashchain import GENESIS, chain_hash, event_body

SLOT = 1 << 20


def insert_raw_events(
    stream_id: str,
    events: Sequence[tuple[str, dict[str, Any]]],
    *,
    offsets: Sequence[int] | None = None,
    schema_version: int = 1,
) -> list[int]:
    """Insert (type, data) pairs as versions 1, 2, ... of a new stream, with a valid hash chain, at positions
    inside the current transaction's range: `offsets[i]` places version i + 1 (default: in version order).
    Returns the positions."""
    offsets = offsets if offsets is not None else range(len(events))
    with connection.cursor() as cursor:
        cursor.execute("SELECT events_xid(), statement_timestamp()")
        xid, now = cursor.fetchone()
        base = xid * SLOT + SLOT // 2  # clear of the positions events_append gives this transaction
        previous, positions = GENESIS, []
        for version, ((type_, data), offset) in enumerate(zip(events, offsets, strict=True), start=1):
            body = event_body(
                stream_id=stream_id, version=version, type=type_, schema_version=schema_version, data=data, metadata={}
            )
            previous = chain_hash(previous, body, now)
            cursor.execute(
                "INSERT INTO events (position, stream_id, version, type, schema_version, data, metadata, recorded_at,"
                " hash) VALUES (%s, %s, %s, %s, %s, %s::jsonb, '{}'::jsonb, %s, %s)",
                [base + offset, stream_id, version, type_, schema_version, json.dumps(data), now, previous],
            )
            positions.append(base + offset)
    return positions
