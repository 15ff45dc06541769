"""Idempotent commands: an Idempotency-Key and the command's outcome, stored in the command's transaction.

- First request with a key: runs the command; its outcome (status, body, headers) commits with its events.
- Same user, same key, same request again: the stored outcome is returned and nothing is appended.
- Same key with a different request: IdempotencyKeyReused (422), nothing runs.
- Two identical requests at once: the second waits on the first's uncommitted claim, then replays it.
- A key older than LEDGER_IDEMPOTENCY_RETENTION_HOURS counts as new. Only outcomes the handler returns are
  stored (success and business-rule refusals); an exception rolls the claim back, so a retry runs again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction

from eventstore.codec import canonical_json

_LOCK_NOT_AVAILABLE = "55P03"


class IdempotencyKeyReused(Exception):
    code = "idempotency_key_reused"


class IdempotencyKeyInUse(Exception):
    """The first request with this key is still running (we waited past lock_timeout)."""

    code = "idempotency_key_in_use"


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False


def fingerprint(method: str, path: str, body: object) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical_json(body)).hexdigest()


def run_once(*, user_id: int, key: str, request_fingerprint: str, handler: Callable[[], Outcome]) -> Outcome:
    """Run `handler` once per (user, key); see the module docstring for every case."""
    with transaction.atomic():
        if _claim(user_id, key, request_fingerprint):
            outcome = handler()
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE idempotency_records SET status = %s, body = %s::jsonb, headers = %s::jsonb"
                    " WHERE user_id = %s AND key = %s",
                    [outcome.status, _json(outcome.body), _json(outcome.headers), user_id, key],
                )
            return outcome
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT fingerprint, status, body, headers FROM idempotency_records WHERE user_id = %s AND key = %s",
                [user_id, key],
            )
            stored_fingerprint, status, body, headers = cursor.fetchone()
    if stored_fingerprint != request_fingerprint:
        raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request")
    return Outcome(status, _load(body), _load(headers), replayed=True)


def purge_expired() -> int:
    """Delete records past the retention period; returns how many. Safe to run at any time."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM idempotency_records WHERE created_at < now() - make_interval(hours => %s)",
            [settings.LEDGER_IDEMPOTENCY_RETENTION_HOURS],
        )
        return int(cursor.rowcount)


def _claim(user_id: int, key: str, request_fingerprint: str) -> bool:
    """Insert the key, or take over an expired one. Waits while another transaction holds it."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO idempotency_records"
                " (user_id, key, fingerprint, status, body, headers, created_at)"
                " VALUES (%s, %s, %s, NULL, '{}', '{}', now())"
                " ON CONFLICT (user_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, status = NULL,"
                " body = '{}', headers = '{}', created_at = now()"
                " WHERE idempotency_records.created_at < now() - make_interval(hours => %s)"
                " RETURNING id",
                [user_id, key, request_fingerprint, settings.LEDGER_IDEMPOTENCY_RETENTION_HOURS],
            )
            return cursor.fetchone() is not None
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            raise IdempotencyKeyInUse("a request with this Idempotency-Key is still being processed") from None
        raise


def _json(value: object) -> str:
    return canonical_json(value).decode()


def _load(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
