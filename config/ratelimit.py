"""A fixed-window rate limit per user (or per address when anonymous), kept in Redis.

It fails open: when Redis is down or slow, requests are let through and a warning is logged, because the
limit guards capacity, not correctness; after a failure Redis is left alone for a few seconds so that an
outage does not add a timeout to every request.
"""

from __future__ import annotations

import logging
import time

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60
BACKOFF_SECONDS = 5.0
_state: dict[str, object] = {"client": None, "skip_until": 0.0}


def check(identity: str) -> int | None:
    """Count one request; return None when allowed, else the seconds until the window resets."""
    now = time.time()
    if now < float(str(_state["skip_until"])):
        return None
    window = int(now // WINDOW_SECONDS)
    key = f"ledger:ratelimit:{identity}:{window}"
    try:
        pipe = _client().pipeline()
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS + 1)
        count = int(pipe.execute()[0])
    except redis.RedisError as exc:
        _state["skip_until"] = now + BACKOFF_SECONDS
        log.warning("rate limiter unavailable, letting requests through", extra={"error": str(exc)})
        return None
    if count <= settings.LEDGER_RATE_LIMIT_PER_MINUTE:
        return None
    return WINDOW_SECONDS - int(now % WINDOW_SECONDS)


def _client() -> redis.Redis:
    client = _state["client"]
    if not isinstance(client, redis.Redis):
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
            socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT,
            retry=Retry(NoBackoff(), 0),  # redis-py retries 3 times by default: seconds added per outage
        )
        _state["client"] = client
    return client
