"""Idempotent commands: an Idempotency-Key and the command's outcome, stored in the command's transaction.

- First request with a key: runs the command; its outcome (status, body, headers) commits with its events.
- Same user, same key, same request again: the stored outcome is returned and nothing is appended.
- Same key with a different request: IdempotencyKeyReused (422), nothing runs.
- Two identical requests at once: the second waits for the first's transaction (an advisory lock on the
  key), then replays its outcome.
- A key older than LEDGER_IDEMPOTENCY_RETENTION_HOURS counts as new. Only outcomes the handler returns are
  stored (success and business-rule refusals); an exception rolls everything back, so a retry runs again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection

from eventstore.codec import canonical_json
from eventstore.cursors import prepared
from eventstore.transactions import atomic_with_retries
from gateway.problems import ProblemError

_LOCK_NOT_AVAILABLE = "55P03"
_LOCK_NAMESPACE = 0x1DE4  # the first key of the advisory locks on idempotency keys (projections use another)


class IdempotencyKeyReused(ProblemError):
    status, code = 422, "idempotency_key_reused"


class IdempotencyKeyInUse(ProblemError):
    """The first request with this key is still running (we waited past lock_timeout)."""

    status, code = 409, "idempotency_key_in_use"


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False


def fingerprint(method: str, path: str, body: object) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical_json(body)).hexdigest()


def run_once(*, user_id: int, key: str, request_fingerprint: str, handler: Callable[[], Outcome]) -> Outcome:
    """Run `handler` once per (user, key); see the module docstring for every case.

    The transaction: lock the key (an advisory lock: no write, so the command's append is the transaction's
    first write and gets a fresh transaction id), look for a stored outcome, else run the handler and store
    its outcome. The whole of it runs again in a new transaction when the store refuses the append as stale.
    """
    return atomic_with_retries(lambda: _run_locked(user_id, key, request_fingerprint, handler))


def _run_locked(user_id: int, key: str, request_fingerprint: str, handler: Callable[[], Outcome]) -> Outcome:
    _lock(user_id, key)
    with prepared() as cursor:  # this and the statements below run on every command: prepared once
        cursor.execute(
            "SELECT fingerprint, status, body, headers FROM idempotency_records WHERE user_id = %s AND key = %s"
            " AND created_at >= now() - make_interval(hours => %s)",
            [user_id, key, settings.LEDGER_IDEMPOTENCY_RETENTION_HOURS],
        )
        stored = cursor.fetchone()
    if stored is not None:
        stored_fingerprint, status, body, headers = stored
        if stored_fingerprint != request_fingerprint:
            raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request")
        return Outcome(status, _load(body), _load(headers), replayed=True)
    outcome = handler()
    with prepared() as cursor:
        # An expired record of the same key is taken over: the key counts as new after the retention period.
        cursor.execute(
            "INSERT INTO idempotency_records (user_id, key, fingerprint, status, body, headers, created_at)"
            " VALUES (%s, %s, %s, %s, %s::jsonb, %s::jsonb, now())"
            " ON CONFLICT (user_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, status = EXCLUDED.status,"
            " body = EXCLUDED.body, headers = EXCLUDED.headers, created_at = EXCLUDED.created_at",
            [user_id, key, request_fingerprint, outcome.status, _json(outcome.body), _json(outcome.headers)],
        )
    return outcome


def purge_expired() -> int:
    """Delete records past the retention period; returns how many. Safe to run at any time."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM idempotency_records WHERE created_at < now() - make_interval(hours => %s)",
            [settings.LEDGER_IDEMPOTENCY_RETENTION_HOURS],
        )
        return int(cursor.rowcount)


def _lock(user_id: int, key: str) -> None:
    """Hold the key until this transaction ends; a second request with it waits here (up to lock_timeout)."""
    try:
        with prepared() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_LOCK_NAMESPACE, f"{user_id}:{key}"])
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            raise IdempotencyKeyInUse("a request with this Idempotency-Key is still being processed") from None
        raise


def _json(value: object) -> str:
    return canonical_json(value).decode()


def _load(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
