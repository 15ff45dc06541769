"""The one way a request issues a command (API endpoints, page forms): idempotency, the actor's context, the
not-found rule, the mapping of refusals to outcomes, and metrics around one service call.

Contract of `submit`:
- Returns an Outcome: 201 with the versions and position on success; 422 with a problem body (its stable
  `code`, and `errors` naming the field when the refusal is about one) when a business rule refuses. Both are
  stored under the Idempotency-Key when one is given, in the command's transaction, and replayed after.
- Raises, storing nothing: Forbidden (the role may not issue this at all), AccountNotFound when the account
  the URL names does not exist or is not the actor's (a 404, not a refusal), ConcurrencyError (the expected
  version is not the stream's), IdempotencyKeyReused and IdempotencyKeyInUse.
- The service reads each stream once (under its lock), checks access, then decides; the wake-up of the read
  models follows the commit (commands.services).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.http import HttpRequest

from commands import calls, idempotency
from commands.calls import AccountResult, CommandContext, TransferResult
from commands.domain.access import Actor
from commands.domain.errors import AccountNotFound, DomainError
from commands.idempotency import Outcome
from gateway import metrics
from gateway.problems import refusal_body

Call = Callable[[CommandContext], AccountResult | TransferResult]


@dataclass(frozen=True, slots=True)
class Submission:
    """Who sends the command, from which request, and under which Idempotency-Key (None: no key)."""

    context: CommandContext
    user_id: int
    idempotency_key: str | None = None
    fingerprint: str = ""
    url_account: UUID | None = None  # the account the URL names: missing, it is a 404 rather than a refusal


def context_for(request: HttpRequest, actor: Actor) -> CommandContext:
    """The context of a command sent with this request: its actor, correlation and request ids (set by
    gateway.middleware.RequestIdentityMiddleware)."""
    return CommandContext(
        actor=actor,
        correlation_id=request.correlation_id,  # type: ignore[attr-defined]
        request_id=request.request_id,  # type: ignore[attr-defined]
    )


def submit(name: str, call: Call, submission: Submission) -> Outcome:
    """Run `call` (one service call) once per idempotency key; see the module docstring for every case."""

    def handler() -> Outcome:
        started = time.perf_counter()
        try:
            outcome = _outcome(call, submission)
        except Exception as exc:
            metrics.COMMANDS.labels(name, type(exc).__name__).inc()
            raise
        metrics.COMMANDS.labels(name, "accepted" if outcome.status < 400 else "refused").inc()
        metrics.COMMAND_SECONDS.labels(name).observe(time.perf_counter() - started)
        return outcome

    if submission.idempotency_key is None:
        return handler()
    return idempotency.run_once(
        user_id=submission.user_id,
        key=submission.idempotency_key,
        request_fingerprint=submission.fingerprint,
        handler=handler,
    )


def _outcome(call: Call, submission: Submission) -> Outcome:
    try:
        result = call(submission.context)
    except DomainError as exc:
        if isinstance(exc, AccountNotFound) and exc.account_id is not None and exc.account_id == submission.url_account:
            raise  # the URL names no account this actor may see: 404, and nothing is stored
        return Outcome(422, refusal_body(exc))
    return accepted(result)


def accepted(result: AccountResult | TransferResult) -> Outcome:
    """201 with what a client needs to read its own write: version(s), global position, correlation id."""
    if isinstance(result, calls.TransferResult):
        body: dict[str, Any] = {
            "transfer_id": str(result.transfer_id),
            "versions": {str(account): version for account, version in result.versions.items()},
            "position": result.position,
            "correlation_id": result.correlation_id,
        }
        return Outcome(201, body)
    body = {
        "account_id": str(result.account_id),
        "version": result.version,
        "position": result.position,
        "correlation_id": result.correlation_id,
    }
    return Outcome(201, body, {"Location": f"/api/accounts/{result.account_id}", "ETag": f'"{result.version}"'})
