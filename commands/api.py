"""The command API (`/api/...`): parse, call one service, answer. Errors are mapped in gateway/api.py.

Every command answers 201 with the stream version(s) and the global position, and honours
`Idempotency-Key` (the outcome is stored with the events) and `If-Match: "<version>"`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from ninja import Query
from ninja.errors import HttpError

from commands import calls, dispatch, idempotency, selectors, services
from commands.domain import accounts, money
from commands.domain.errors import DomainError, FieldError
from commands.idempotency import Outcome
from commands.schemas import (
    AccountAccepted,
    AccountStateOut,
    AmountIn,
    EventPage,
    FreezeIn,
    HolderIn,
    OpenAccountIn,
    PageQuery,
    PointQuery,
    TokenIn,
    TokenOut,
    TransferAccepted,
    TransferIn,
    VersionOnlyIn,
)
from gateway import login_throttle, positions
from gateway.actors import actor_for, actor_of
from gateway.problems import CONTENT_TYPE, Throttled
from gateway.routes import router
from gateway.schemas import ERRORS, Problem
from gateway.tokens import authenticated_user, issue_token

TAGS = ["commands"]
_KEY = re.compile(r"[\x21-\x7e]{1,200}")
_ETAG = re.compile(r'\s*(?:W/)?"?(\d{1,9})"?\s*')


@router.post(
    "/token", tags=TAGS, auth=None, response={200: TokenOut, 400: Problem, 401: Problem, 422: Problem, 429: Problem}
)
def token(request: HttpRequest, payload: TokenIn) -> dict[str, Any]:
    """Exchange a username and password for a short-lived Bearer token. Too many failures for the username (or
    from the address) answer 429 with Retry-After, before the password is checked."""
    wait = login_throttle.retry_after(payload.username, login_throttle.address_of(request))
    if wait is not None:
        raise Throttled(wait)
    user = authenticate(request, username=payload.username, password=payload.password)
    if not isinstance(user, User):
        raise HttpError(401, "wrong username or password")
    login_throttle.succeeded(user.get_username())  # a token is not a session login: no signal says so
    return issue_token(user)


@router.post("/accounts", tags=TAGS, response={201: AccountAccepted, **ERRORS})
def open_account(request: HttpRequest, payload: OpenAccountIn) -> HttpResponse:
    """Open an account. A customer opens one for themself; a teller names the `owner`."""
    owner = payload.owner or authenticated_user(request).get_username()
    overdraft = _money(payload.overdraft_limit, payload.currency, "overdraft_limit", allow_zero=True)
    command = accounts.OpenAccount(
        account_id=uuid.uuid4(),
        holder_name=payload.holder_name,
        email=payload.email,
        currency=payload.currency,
        overdraft_limit=overdraft,
        owner=owner,
        now=_now(),
    )
    return _run(
        request, payload, "OpenAccount", lambda context: services.account_open(command=command, context=context)
    )


@router.post("/accounts/{account_id}/deposits", tags=TAGS, response={201: AccountAccepted, **ERRORS})
def deposit(request: HttpRequest, account_id: UUID, payload: AmountIn) -> HttpResponse:
    return _money_command(request, account_id, payload, accounts.Deposit, services.account_deposit)


@router.post("/accounts/{account_id}/withdrawals", tags=TAGS, response={201: AccountAccepted, **ERRORS})
def withdraw(request: HttpRequest, account_id: UUID, payload: AmountIn) -> HttpResponse:
    return _money_command(request, account_id, payload, accounts.Withdraw, services.account_withdraw)


@router.post("/accounts/{account_id}/freeze", tags=TAGS, response={201: AccountAccepted, **ERRORS})
def freeze(request: HttpRequest, account_id: UUID, payload: FreezeIn) -> HttpResponse:
    command = accounts.Freeze(account_id=account_id, reason=payload.reason, now=_now())
    return _account_command(request, payload, command, services.account_freeze)


@router.post("/accounts/{account_id}/unfreeze", tags=TAGS, response={201: AccountAccepted, **ERRORS})
def unfreeze(request: HttpRequest, account_id: UUID, payload: VersionOnlyIn) -> HttpResponse:
    command = accounts.Unfreeze(account_id=account_id, now=_now())
    return _account_command(request, payload, command, services.account_unfreeze)


@router.post("/accounts/{account_id}/close", tags=TAGS, response={201: AccountAccepted, **ERRORS})
def close(request: HttpRequest, account_id: UUID, payload: VersionOnlyIn) -> HttpResponse:
    command = accounts.Close(account_id=account_id, now=_now())
    return _account_command(request, payload, command, services.account_close)


@router.post("/accounts/{account_id}/holder", tags=TAGS, response={201: AccountAccepted, **ERRORS})
def change_holder(request: HttpRequest, account_id: UUID, payload: HolderIn) -> HttpResponse:
    command = accounts.ChangeHolderDetails(
        account_id=account_id, holder_name=payload.holder_name, email=payload.email, now=_now()
    )
    return _account_command(request, payload, command, services.account_change_holder)


@router.post("/transfers", tags=TAGS, response={201: TransferAccepted, **ERRORS})
def transfer(request: HttpRequest, payload: TransferIn) -> HttpResponse:
    """Move money between two accounts of the same currency; If-Match applies to the source account."""
    draft = calls.Draft(
        "Transfer",
        payload.from_account,
        lambda source: accounts.Transfer(
            transfer_id=uuid.uuid4(),
            from_account=payload.from_account,
            to_account=payload.to_account,
            amount=_money(payload.amount, source.currency, "amount"),
            reference=payload.reference,
            now=_now(),
        ),
        to_account=payload.to_account,
    )
    from_expected = _expected(request, payload.from_expected_version)
    return _run(
        request,
        payload,
        "Transfer",
        lambda c: services.transfer_execute(
            command=draft,
            context=c,
            from_expected_version=from_expected,
            to_expected_version=payload.to_expected_version,
        ),
    )


@router.get("/accounts/{account_id}/events", tags=TAGS, response={200: EventPage, **ERRORS})
def account_events(request: HttpRequest, account_id: UUID, page: Query[PageQuery]) -> dict[str, Any]:
    """The account's events, oldest first; pass `next_cursor` back as `cursor` for the next page."""
    after, limit = _decode_cursor(page.cursor), page.limit
    events = selectors.account_events(account_id=account_id, actor=actor_of(request), after_version=after, limit=limit)
    next_cursor = _encode_cursor(events[-1].version) if len(events) == limit else None
    return {"items": [event.as_json() for event in events], "next_cursor": next_cursor}


@router.get("/accounts/{account_id}/state", tags=TAGS, response={200: AccountStateOut, **ERRORS})
def account_state(request: HttpRequest, account_id: UUID, point: Query[PointQuery]) -> dict[str, Any]:
    """The account folded from its events as of `version` and/or `at` (ISO 8601); now when neither given."""
    version, moment = point.version, _parse_moment(point.at) if point.at else None
    found = selectors.account_state(account_id=account_id, actor=actor_of(request), version=version, at=moment)
    state = found.state
    return {
        "account_id": account_id,
        "version": found.version,
        "position": found.position,
        "recorded_at": found.recorded_at.isoformat(),
        "status": state.status,
        "balance": money.format_amount(state.balance, state.currency),
        "currency": state.currency,
        "overdraft_limit": money.format_amount(state.overdraft_limit, state.currency),
        "owner": state.owner,
        "holder_name": state.holder_name,
        "email": state.email,
        "frozen_reason": state.frozen_reason,
    }


# --- the shared path of every command ----------------------------------------------------------------


def _money_command(
    request: HttpRequest, account_id: UUID, payload: AmountIn, command_type: Any, service: Callable[..., Any]
) -> HttpResponse:
    """Deposit or withdraw: the amount is read in the account's currency, from the state the service loads."""
    draft = calls.Draft(
        command_type.__name__,
        account_id,
        lambda state: command_type(
            account_id=account_id,
            amount=_money(payload.amount, state.currency, "amount"),
            reference=payload.reference,
            now=_now(),
        ),
    )
    expected = _expected(request, payload.expected_version)
    call = lambda c: service(command=draft, context=c, expected_version=expected)  # noqa: E731
    return _run(request, payload, command_type.__name__, call, url_account=account_id)


def _account_command(
    request: HttpRequest, payload: Any, command: accounts.AccountCommand, service: Callable[..., Any]
) -> HttpResponse:
    expected = _expected(request, payload.expected_version)
    call = lambda c: service(command=command, context=c, expected_version=expected)  # noqa: E731
    return _run(request, payload, type(command).__name__, call, url_account=command.account_id)


def _run(
    request: HttpRequest, payload: Any, name: str, call: dispatch.Call, url_account: UUID | None = None
) -> HttpResponse:
    """Submit the command (commands.dispatch) under the request's Idempotency-Key, if it sent one."""
    user = authenticated_user(request)
    key = request.headers.get("Idempotency-Key")
    if key is not None and not _KEY.fullmatch(key):
        raise HttpError(400, "Idempotency-Key must be 1-200 printable ASCII characters")
    body = payload.model_dump(mode="json")
    submission = dispatch.Submission(
        context=dispatch.context_for(request, actor_for(user)),
        user_id=int(user.pk),
        idempotency_key=key,
        fingerprint=idempotency.fingerprint(request.method or "", request.path, body) if key else "",
        url_account=url_account,
    )
    outcome = dispatch.submit(name, call, submission)
    if outcome.status < 400:
        positions.remember(request, outcome.body["position"])
    return _response(outcome)


def _response(outcome: Outcome) -> HttpResponse:
    content_type = CONTENT_TYPE if outcome.status >= 400 else "application/json"
    # Sorted keys: a replay (read back from jsonb) is byte-for-byte the first response.
    body = json.dumps(outcome.body, sort_keys=True)
    response = HttpResponse(body, status=outcome.status, content_type=content_type)
    for name, value in outcome.headers.items():
        response[name] = value
    if outcome.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _expected(request: HttpRequest, in_body: int | None) -> int | None:
    """The expected version from If-Match or the body; both given and different is a 400."""
    header = request.headers.get("If-Match")
    if header is None:
        return in_body
    match = _ETAG.fullmatch(header)
    if match is None:
        raise HttpError(400, 'If-Match must be a version in quotes, like "3"')
    from_header = int(match.group(1))
    if in_body is not None and in_body != from_header:
        raise HttpError(400, "If-Match and expected_version disagree")
    return from_header


def _money(text: str, currency: str, field: str, *, allow_zero: bool = False) -> int:
    try:
        return money.parse_decimal(text, currency, allow_zero=allow_zero)
    except DomainError as exc:
        raise FieldError(exc, field) from None


def _now() -> datetime:
    return datetime.now(UTC)


def _parse_moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise HttpError(400, "`at` must be an ISO 8601 date-time, like 2026-11-24T09:30:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _encode_cursor(version: int) -> str:
    return base64.urlsafe_b64encode(f"v{version}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("v"):
            raise ValueError(text)
        return int(text[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise HttpError(400, "cursor is not one this API gave out") from None
