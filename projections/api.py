"""The query API: reads only read models (temporal queries live with the commands: they fold the stream).

The account reads (list, summary, ledger) carry the projection position they reflect (`projection_position`,
and the `X-Projection-Position` header). `min_position=P` waits up to 2 s for the projector to reach a
command's position, then answers anyway with `stale: true`.

Answers built here go out as a ready HttpResponse, which ninja does not validate (the hot reads pay for no
pydantic); the schemas in projections/schemas.py document them, and tests/test_openapi.py holds the two together.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from ninja import Query
from ninja.errors import HttpError

from commands.domain import money
from commands.domain.access import Actor, Forbidden
from eventstore import store
from gateway.actors import actor_of
from gateway.problems import problem
from gateway.routes import router
from gateway.schemas import ERRORS
from projections import selectors, status
from projections.schemas import (
    AccountDetail,
    AccountPage,
    EventsQuery,
    GlobalEventPage,
    LedgerPage,
    LedgerQuery,
    ListQuery,
    NotificationPage,
    NotificationQuery,
    ProjectorStatusOut,
    ReadQuery,
)
from projections.selectors import BadCursor, Freshness

TAGS = ["queries"]


@router.get("/accounts", tags=TAGS, response={200: AccountPage, **ERRORS})
def account_list(request: HttpRequest, query: Query[ListQuery]) -> HttpResponse:
    """Search accounts (holder name, email, id prefix, references); customers see their own."""
    fresh = selectors.wait_for("account_search", None)
    try:
        items, next_cursor = selectors.account_list(
            actor=actor_of(request),
            q=query.q,
            status_filter=query.status,
            cursor=query.cursor,
            limit=query.limit,
        )
    except BadCursor:
        raise HttpError(400, "cursor is not one this API gave out") from None
    body = {"items": [_summary(row) for row in items], "next_cursor": next_cursor}
    return _answer(body, fresh)


@router.get("/accounts/{account_id}", tags=TAGS, response={200: AccountDetail, 304: None, **ERRORS})
def account_detail(request: HttpRequest, account_id: UUID, query: Query[ReadQuery]) -> HttpResponse:
    """One account's summary. `ETag` is its version; `If-None-Match` with it answers 304."""
    actor = actor_of(request)
    fresh = _wait_if_visible(actor, account_id, "account_summaries", query.min_position)
    row = selectors.account_get(account_id=account_id, actor=actor, use_cache=not query.min_position)
    if row is None:
        return _missing(account_id, fresh)
    etag = f'"{row["version"]}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = _answer(_summary(row), fresh)
    response["ETag"] = etag
    return response


@router.get("/accounts/{account_id}/ledger", tags=TAGS, response={200: LedgerPage, **ERRORS})
def account_ledger(request: HttpRequest, account_id: UUID, query: Query[LedgerQuery]) -> HttpResponse:
    """Money movements, newest first, with the running balance."""
    actor = actor_of(request)
    fresh = _wait_if_visible(actor, account_id, "ledger_entries", query.min_position)
    if selectors.account_get(account_id=account_id, actor=actor) is None:
        return _missing(account_id, fresh)
    try:
        items, next_cursor = selectors.ledger(account_id=account_id, cursor=query.cursor, limit=query.limit)
    except BadCursor:
        raise HttpError(400, "cursor is not one this API gave out") from None
    return _answer({"items": [_entry(item) for item in items], "next_cursor": next_cursor}, fresh)


@router.get("/events", tags=TAGS, response={200: GlobalEventPage, **ERRORS})
def events(request: HttpRequest, query: Query[EventsQuery]) -> HttpResponse:
    """The global log in reader order, where positions only go up (tellers, auditors). Page with the last
    item's position: no event can ever appear at or below a position this endpoint has returned."""
    if not actor_of(request).sees_everything:
        raise Forbidden("only tellers and auditors read the global log")
    items = store.read_all(after=query.after_position, limit=query.limit)
    body = {"items": [event.as_json() for event in items], "head_position": store.head_position()}
    body["next_cursor"] = str(items[-1].position) if len(items) == query.limit else None
    return _json(body)


@router.get("/notifications", tags=TAGS, response={200: NotificationPage, **ERRORS})
def notifications(request: HttpRequest, query: Query[NotificationQuery]) -> dict[str, Any]:
    """The notifications outbox, newest first (tellers and auditors): large withdrawals and transfers."""
    actor = actor_of(request)
    if not (actor.sees_everything or actor.may_operate):
        raise Forbidden("only tellers, auditors and operators see the notifications")
    try:
        items, next_cursor = selectors.notification_list(
            status_filter=query.status, cursor=query.cursor, limit=query.limit
        )
    except BadCursor:
        raise HttpError(400, "cursor is not one this API gave out") from None
    return {"items": [_notification(item) for item in items], "next_cursor": next_cursor}


def _notification(item: dict[str, Any]) -> dict[str, Any]:
    sent_at = item["sent_at"].isoformat() if item["sent_at"] else None
    return item | {"amount": money.format_amount(item["amount"], item["currency"]), "sent_at": sent_at}


@router.get("/projections", tags=TAGS, response={200: list[ProjectorStatusOut], **ERRORS})
def projections(request: HttpRequest) -> HttpResponse:
    """Each projector: status (running, idle, failed, rebuilding), checkpoint, head, lag, last error."""
    actor = actor_of(request)
    if not (actor.sees_everything or actor.may_operate):
        raise Forbidden("only tellers, auditors and operators see the projections")
    return _json([entry.as_json() for entry in status.all_statuses()])


def _wait_if_visible(actor: Actor, account_id: UUID, projector: str, min_position: int | None) -> Freshness:
    """Read-your-writes, on an account the actor may see: checked before the wait, which holds a thread. Without
    a wait, the summary row (cached) carries the owner and the read checks it, with no extra query."""
    if min_position:
        selectors.require_visible(account_id=account_id, actor=actor)
    return selectors.wait_for(projector, min_position)


def _missing(account_id: UUID, fresh: Freshness) -> HttpResponse:
    """No read-model row: 404, or, when a `min_position` wait ran out on an account the store has (it was
    checked before the wait), 503 with Retry-After: the account exists, its read model is behind."""
    if not fresh.stale:
        return problem(404, f"account {account_id} does not exist", "account_not_found")
    response = problem(
        503,
        f"the read models have not reached the position asked for (they are at {fresh.projection_position}); retry",
        "read_model_behind",
    )
    response["Retry-After"] = "1"
    return response


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    currency = row["currency"]
    return {
        "account_id": str(row["account_id"]),
        "holder_name": row["holder_name"],
        "email": row["email"],
        "owner": row["owner"],
        "status": row["status"],
        "currency": currency,
        "balance": money.format_amount(row["balance"], currency),
        "overdraft_limit": money.format_amount(row["overdraft_limit"], currency),
        "version": row["version"],
        "opened_at": str(row["opened_at"]),
        "updated_at": str(row["updated_at"]),
    }


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    currency = item["currency"]
    return {
        **{key: item[key] for key in ("version", "position", "kind", "currency", "reference")},
        "amount": money.format_amount(item["amount"], currency),
        "balance_after": money.format_amount(item["balance_after"], currency),
        "counterparty": str(item["counterparty"]) if item["counterparty"] else None,
        "transfer_id": str(item["transfer_id"]) if item["transfer_id"] else None,
        "recorded_at": item["recorded_at"].isoformat(),
    }


def _answer(body: dict[str, Any], fresh: Freshness) -> HttpResponse:
    body |= {"projection_position": fresh.projection_position, "stale": fresh.stale}
    response = _json(body)
    response["X-Projection-Position"] = str(fresh.projection_position)
    return response


def _json(body: object) -> HttpResponse:
    return HttpResponse(json.dumps(body, default=str), content_type="application/json")
