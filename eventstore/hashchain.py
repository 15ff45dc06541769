"""The per-stream hash chain: each event's hash covers the previous event's hash, its canonical bytes and the
moment it was recorded.

    hash = sha256(previous hash as ASCII hex || canonical body || "@" || recorded_at as UTC ISO 8601, µs)

The database computes it at append time (function `events_append`, migration 0002); `verify_eventstore`
recomputes it here. Changing, removing or reordering any stored event breaks the chain at that event, so
tampering that got past the database's own defences is found, and a copy of each stream's last hash kept
elsewhere proves the whole stream.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from eventstore.codec import canonical_json

GENESIS = ""


def event_body(
    *,
    stream_id: str,
    version: int,
    type: str,
    schema_version: int,
    data: dict[str, Any],
    metadata: dict[str, Any],
) -> bytes:
    """The canonical bytes of everything about an event except the moment it was recorded."""
    return canonical_json(
        {
            "stream_id": stream_id,
            "version": version,
            "type": type,
            "schema_version": schema_version,
            "data": data,
            "metadata": metadata,
        }
    )


def chain_hash(previous: str, body: bytes, recorded_at: datetime) -> str:
    stamp = recorded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    return hashlib.sha256(previous.encode("ascii") + body + b"@" + stamp.encode("ascii")).hexdigest()
