"""The per-stream hash chain: each event's hash covers its canonical bytes and the previous event's hash.

Changing, removing or reordering any stored event breaks every later hash of its stream, so
`verify_eventstore` (and anyone holding a copy of a stream's last hash) can detect tampering that got past
the database's own defences.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from eventstore.codec import canonical_json

GENESIS = ""


def canonical_bytes(
    *,
    stream_id: str,
    version: int,
    type: str,
    schema_version: int,
    data: dict[str, Any],
    metadata: dict[str, Any],
    recorded_at: datetime,
) -> bytes:
    return canonical_json(
        {
            "stream_id": stream_id,
            "version": version,
            "type": type,
            "schema_version": schema_version,
            "data": data,
            "metadata": metadata,
            "recorded_at": recorded_at.astimezone(UTC).isoformat(timespec="microseconds"),
        }
    )


def chain_hash(previous: str, canonical: bytes) -> str:
    """sha256(previous hash as ASCII hex + canonical bytes), as hex. The first event uses GENESIS."""
    return hashlib.sha256(previous.encode("ascii") + canonical).hexdigest()
