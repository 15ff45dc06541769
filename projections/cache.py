"""A Redis cache of account summaries for hot reads, written through by the account_summaries projector.

Readers add on a miss (never overwrite), the projector sets after its commit, so a reader cannot put back an
older row than the projector wrote. Entries expire after TTL_SECONDS to bound any other staleness. Without
Redis, reads go to the database (gateway.optional_redis).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import redis

from gateway.optional_redis import optional_redis

TTL_SECONDS = 300
PREFIX = "ledger:account:"


def get(account_id: UUID) -> dict[str, Any] | None:
    raw = optional_redis.run(lambda client: client.get(_key(account_id)), fallback=None, purpose="account cache")
    return json.loads(raw) if isinstance(raw, bytes | str) else None


def add(row: dict[str, Any]) -> None:
    """Cache a row read from the database, unless a (newer) entry is already there."""
    optional_redis.run(
        lambda client: client.set(_key(row["account_id"]), _dump(row), ex=TTL_SECONDS, nx=True),
        fallback=None,
        purpose="account cache",
    )


def put(rows: Iterable[dict[str, Any]]) -> None:
    """Write rows the projector has just committed."""

    def write(client: redis.Redis) -> None:
        pipe = client.pipeline()
        for row in rows:
            pipe.set(_key(row["account_id"]), _dump(row), ex=TTL_SECONDS)
        pipe.execute()

    optional_redis.run(write, fallback=None, purpose="account cache")


def clear() -> None:
    """Drop every cached account (after a rebuild swaps the table in)."""

    def drop(client: redis.Redis) -> None:
        for key in client.scan_iter(f"{PREFIX}*", count=500):
            client.delete(key)

    optional_redis.run(drop, fallback=None, purpose="account cache")


def _key(account_id: Any) -> str:
    return f"{PREFIX}{account_id}"


def _dump(row: dict[str, Any]) -> str:
    return json.dumps(row, default=str)
