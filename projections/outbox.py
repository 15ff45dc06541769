"""Deliver the notifications outbox (rows written by the `notifications` projector): an e-mail to the account
holder and, when LEDGER_WEBHOOK_URL is set, a JSON POST.

Each delivery claims one due row in a short transaction (status `sending`), sends outside any transaction, then
records the outcome (`sent`; or back to `pending` after a back-off, `failed` after MAX_ATTEMPTS). A worker that
dies mid-delivery leaves its row `sending`; after CLAIM_TIMEOUT it is due again. Delivery is therefore at least
once, and exactly once at the receiving end: every message carries a stable id (Message-ID
`<notification-N@ledger>`, header `Idempotency-Key: notification-N`), and make run's mail directory keeps one
file per id (projections.mailfiles). Nothing is lost: a row leaves the outbox only as `sent` or `failed`.

Triggers: a job after the projector's commit (wake_after_commit) and every worker's periodic pass. Times are
statement_timestamp(), not now(): a row is due from its event's moment, even within the transaction that wrote it.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import django_rq
import redis
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction

from commands.domain import money
from gateway.optional_redis import optional_redis

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
CLAIM_TIMEOUT_SECONDS = settings.LEDGER_DELIVERY_CLAIM_SECONDS
WEBHOOK_TIMEOUT_SECONDS = 5
DELIVERY_COLUMNS = ("status", "attempts", "last_error", "next_attempt_at", "claimed_at", "sent_at", "created_at")
_PENDING_FLAG = "ledger:deliveries-pending"
_SUBJECTS = {"large_withdrawal": "Large withdrawal", "large_transfer": "Large transfer sent"}


@dataclass(frozen=True, slots=True)
class Due:
    id: int
    position: int
    kind: str
    account_id: UUID
    amount: int
    currency: str
    recipient: str
    attempts: int
    created_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "position": self.position,
            "kind": self.kind,
            "account_id": str(self.account_id),
            "amount": money.format_amount(self.amount, self.currency),
            "currency": self.currency,
            "recorded_at": self.created_at.isoformat(),
        }


def deliver_due(limit: int = 100) -> int:
    """Deliver up to `limit` due notifications, one at a time; returns how many were sent. Never raises for a
    failed delivery (it is recorded and retried); database errors propagate."""
    sent = 0
    for _ in range(limit):
        due = _claim()
        if due is None:
            break
        try:
            _send(due)
        except Exception as exc:  # the receiver's or the network's fault: record it and try again later
            log.warning("notification not delivered", extra={"notification": due.id, "error": repr(exc)})
            _record_failure(due, f"{type(exc).__name__}: {exc}")
        else:
            _record_sent(due)
            sent += 1
    return sent


def deliver_job() -> int:
    """The RQ job: deliver what is due. Safe to run twice at once (rows are claimed with SKIP LOCKED)."""
    optional_redis.run(lambda client: client.delete(_PENDING_FLAG), fallback=None, purpose="delivery flag")
    return deliver_due()


def wake_after_commit() -> None:
    """Ring the delivery doorbell once the current transaction commits (and never fail the caller)."""
    transaction.on_commit(_ring)


def _ring() -> None:
    def ring(client: redis.Redis) -> None:
        if client.set(_PENDING_FLAG, "1", nx=True, ex=60):
            django_rq.get_queue("default").enqueue("projections.outbox.deliver_job", result_ttl=60, failure_ttl=86400)

    try:
        optional_redis.run(ring, fallback=None, purpose="delivery wake-up")
    except Exception:  # the synchronous queue of the tests delivers right here; never fail the projector
        log.exception("delivery wake-up failed")


def _claim() -> Due | None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE notifications SET status = 'sending', claimed_at = statement_timestamp(), attempts = attempts + 1"
            " WHERE id = (SELECT id FROM notifications"
            "   WHERE (status = 'pending' AND next_attempt_at <= statement_timestamp())"
            "   OR (status = 'sending' AND claimed_at < statement_timestamp() - make_interval(secs => %s))"
            "   ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)"
            " RETURNING id, position, kind, account_id, amount, currency, recipient, attempts, created_at",
            [CLAIM_TIMEOUT_SECONDS],
        )
        row = cursor.fetchone()
    return Due(*row) if row else None


def _send(due: Due) -> None:
    subject = (
        f"{_SUBJECTS.get(due.kind, 'Notification')}: {money.format_amount(due.amount, due.currency)} {due.currency}"
    )
    body = (
        f"{subject} from account {due.account_id}.\n"
        f"If you did not expect this, contact your bank.\n\nNotification {due.id} (event position {due.position})."
    )
    message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [due.recipient])
    message.extra_headers["Message-ID"] = f"<notification-{due.id}@ledger>"
    if "@" in due.recipient:  # not when the holder was forgotten (the webhook still hears of it)
        message.send()
    if settings.LEDGER_WEBHOOK_URL:
        request = urllib.request.Request(
            settings.LEDGER_WEBHOOK_URL,
            data=json.dumps(due.as_json()).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Idempotency-Key": f"notification-{due.id}"},
        )
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            if response.status >= 300:
                raise RuntimeError(f"the webhook answered {response.status}")


def _record_sent(due: Due) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE notifications SET status = 'sent', sent_at = statement_timestamp(), last_error = '' WHERE id = %s",
            [due.id],
        )


def _record_failure(due: Due, error: str) -> None:
    """Back to `pending` after 2, 4, 8 ... seconds (at most an hour), or `failed` when the attempts are spent."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE notifications SET status = CASE WHEN attempts >= %s THEN 'failed' ELSE 'pending' END,"
            " last_error = %s,"
            " next_attempt_at = statement_timestamp() + make_interval(secs => least(3600, 2 ^ attempts))"
            " WHERE id = %s",
            [MAX_ATTEMPTS, error[:2000], due.id],
        )
