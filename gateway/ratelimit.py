"""A fixed-window rate limit per user (or per address when anonymous), kept in Redis.

It fails open: when Redis is down, requests are let through (see gateway.optional_redis), because the limit
guards capacity, not correctness.
"""

from __future__ import annotations

import time

import redis
from django.conf import settings

from gateway.optional_redis import optional_redis

WINDOW_SECONDS = 60
KEY_PREFIX = "ledger:ratelimit:"


def check(identity: str) -> int | None:
    """Count one request; return None when allowed, else the seconds until the window resets."""
    now = time.time()
    key = f"{KEY_PREFIX}{identity}:{int(now // WINDOW_SECONDS)}"

    def count(client: redis.Redis) -> int:
        # One round trip without MULTI/EXEC: the key names its window, so an EXPIRE lost to a dropped
        # connection leaves a key no later window reads (it only costs memory until Redis restarts).
        pipe = client.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS + 1)
        return int(pipe.execute()[0])

    if optional_redis.run(count, fallback=0, purpose="rate limit") <= settings.LEDGER_RATE_LIMIT_PER_MINUTE:
        return None
    return WINDOW_SECONDS - int(now % WINDOW_SECONDS)
