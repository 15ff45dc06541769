"""Redis for work that may be skipped when Redis is unavailable (rate limits, the account cache).

No retries, short timeouts, and after a failure Redis is left alone for BACKOFF_SECONDS, so an outage costs
at most one timeout every few seconds instead of one per request. Callers say what to do without Redis.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)
T = TypeVar("T")
BACKOFF_SECONDS = 5.0


class OptionalRedis:
    def __init__(self) -> None:
        self._client: redis.Redis | None = None
        self._url = ""
        self._skip_until = 0.0

    def run(self, work: Callable[[redis.Redis], T], *, fallback: T, purpose: str) -> T:
        """`work(client)`, or `fallback` when Redis is down (logged once per back-off period)."""
        now = time.monotonic()
        if now < self._skip_until:
            return fallback
        try:
            return work(self.client())
        except redis.RedisError as exc:
            self._skip_until = now + BACKOFF_SECONDS
            log.warning("redis unavailable; going on without it", extra={"purpose": purpose, "error": str(exc)})
            return fallback

    def client(self) -> redis.Redis:
        if self._client is None or self._url != settings.REDIS_URL:
            self._url = settings.REDIS_URL
            self._client = redis.Redis.from_url(
                self._url,
                socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
                socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT,
                retry=Retry(NoBackoff(), 0),  # redis-py retries 3 times by default: seconds per outage
            )
        return self._client

    def reset(self) -> None:
        """Forget the client and any back-off (tests; a changed REDIS_URL is picked up anyway)."""
        self._client, self._skip_until = None, 0.0


optional_redis = OptionalRedis()
