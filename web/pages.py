"""Read pages: accounts, the account page and its panels, the event log, the dashboard and the ops page.

Full pages on a normal request; the named partial (`template.html#id`) when htmx asks. Panels refresh on the
`account-changed` event, which the pending badge fires once the read models have caught up with a command.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from commands.domain import accounts, money
from eventstore import store
from gateway.actors import actor_for
from projections import checkpoints, jobs, operations, registry, selectors, status
from projections.selectors import BadCursor
from web import charts, display, freshness
from web.account_names import account_names, stream_account
from web.forms import CommandForm, account_forms

PENDING_TRIES = 30  # × 0.5 s: how long the badge waits before it says the read model is behind
CHART_ENTRIES = 200  # the balance chart draws the newest entries; the ledger's first page is taken from them
DASHBOARD_DAYS = 30


@login_required
@require_GET
def accounts_page(request: HttpRequest) -> HttpResponse:
    actor = freshness.reader(request)
    q, state, cursor = request.GET.get("q", "")[:200], request.GET.get("status", ""), request.GET.get("cursor")
    if state not in {"", "open", "frozen", "closed"}:
        state = ""
    try:
        items, next_cursor = selectors.account_list(actor=actor, q=q, status_filter=state, cursor=cursor, limit=25)
    except BadCursor:
        items, next_cursor = [], None
    context = {
        "items": [display.account_summary(row) for row in items],
        "next_cursor": next_cursor,
        "q": q,
        "status": state,
        "nav": "accounts",
    }
    template = "web/accounts.html" + ("#rows" if request.htmx else "")  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
@require_GET
def account_detail(request: HttpRequest, account_id: UUID) -> HttpResponse:
    return account_page(request, account_id)


def account_page(
    request: HttpRequest,
    account_id: UUID,
    *,
    bound: tuple[str, CommandForm] | None = None,
    http_status: int = 200,
) -> HttpResponse:
    """The account: summary, balance chart, ledger, and its command forms (`bound`: a failed post's form).
    Waits (bounded) for the read models to hold the user's own last command first (web.freshness)."""
    current = freshness.account_now(request, account_id)
    context = _account_context(request, account_id, current.summary)
    pending = current.pending or _int(request.GET.get("pending"))  # a position still pending comes first
    caught_up = pending is None or freshness.caught_up(pending)
    context |= {
        "position": pending,
        "caught_up": caught_up,
        "tries": 0,
        "gave_up": False,
        "nav": "accounts",
        "forms": account_forms(actor_for(request.user), current.version, current.status, bound),
    }
    return render(request, "web/account.html", context, status=http_status)


@login_required
@require_GET
def account_panel(request: HttpRequest, account_id: UUID, panel: str) -> HttpResponse:
    """One panel of the account page (summary, chart or ledger), for htmx refreshes."""
    if panel not in {"summary", "chart", "ledger", "forms"}:
        raise Http404(panel)
    if panel == "forms":
        current = freshness.account_now(request, account_id)
        forms = account_forms(actor_for(request.user), current.version, current.status)
        context = {"account_id": account_id, "forms": forms}
        return render(request, "web/account_forms.html#forms", context)
    summary = freshness.visible_summary(request, account_id)
    return render(request, f"web/account.html#{panel}", _account_context(request, account_id, summary))


@login_required
@require_GET
def pending_badge(request: HttpRequest, account_id: UUID) -> HttpResponse:
    """'Saved — updating' until the account's read models reach `position` (default: the stream's last event),
    then a trigger that refreshes the panels. Gives up (with a message) after PENDING_TRIES polls. Asked on
    `command-saved` (sent with every successful command form) and by its own polling."""
    freshness.visible_summary(request, account_id)  # the page's access check, without the panels' queries
    position = _int(request.GET.get("position")) or store.last_position(accounts.account_stream(account_id))
    tries = _int(request.GET.get("tries")) or 0
    caught_up = position is None or freshness.caught_up(position)
    context = {
        "account_id": account_id,
        "position": position,
        "tries": tries + 1,
        "caught_up": caught_up,
        "gave_up": not caught_up and tries >= PENDING_TRIES,
    }
    response = render(request, "web/account.html#pending", context)
    return trigger_client_event(response, "account-changed") if caught_up and position else response


@login_required
@require_GET
def events_page(request: HttpRequest) -> HttpResponse:
    """The global event log, newest first, with filters; a correlation id shows one request's events."""
    if not actor_for(request.user).sees_everything:
        raise PermissionDenied("the event log is for tellers and auditors")
    filters = {key: request.GET.get(key, "").strip()[:200] for key in ("type", "stream", "user", "correlation_id")}
    since, until = _date(request.GET.get("since")), _date(request.GET.get("until"))
    before = _int(request.GET.get("before"))
    events = store.find(
        type=filters["type"],
        stream_id=filters["stream"],
        user=filters["user"],
        correlation_id=filters["correlation_id"],
        since=since,
        until=until + timedelta(days=1) if until else None,
        before_position=before,
        limit=50,
    )
    names = account_names(actor_for(request.user), (stream_account(event.stream_id) for event in events))
    context = {
        "events": [display.event_row(event, names.get(stream_account(event.stream_id))) for event in events],
        "filters": filters,
        "since": request.GET.get("since", ""),
        "until": request.GET.get("until", ""),
        "types": [t.__name__ for t in accounts.EVENTS],
        "next_before": events[-1].position if len(events) == 50 else None,
        "nav": "events",
    }
    template = "web/events.html" + ("#event-rows" if request.htmx else "")  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    if not actor_for(request.user).sees_everything:
        raise PermissionDenied("the dashboard is for staff")
    today = datetime.now(UTC).date()
    rows = selectors.daily_totals(since=today - timedelta(days=DASHBOARD_DAYS - 1))
    currency = request.GET.get("currency") or (rows[-1]["currency"] if rows else money.DEFAULT_CURRENCY)
    mine = {row["day"]: row for row in rows if row["currency"] == currency}
    context = {
        "rows": [mine[day] for day in sorted(mine, reverse=True)],
        "chart": _daily_chart(mine, today, currency) if mine else None,
        "currency": currency,
        "currencies": sorted({row["currency"] for row in rows}),
        "nav": "dashboard",
    }
    return render(request, "web/dashboard.html", context)


@login_required
@permission_required("commands.operate_projections", raise_exception=True)
@require_GET
def ops_page(request: HttpRequest) -> HttpResponse:
    context = {
        "statuses": status.all_statuses(),
        "nav": "ops",
        "progress": _rebuild_progress(),
        "notification_counts": selectors.notification_counts(),
        "notifications": [
            n | {"amount": display.money_text(n["amount"], n["currency"])}
            for n in selectors.notification_list(limit=10)[0]
        ],
    }
    template = "web/ops.html" + ("#projectors" if request.htmx else "")  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
@permission_required("commands.operate_projections", raise_exception=True)
@require_POST
def ops_action(request: HttpRequest, name: str, action: str) -> HttpResponse:
    """Retry, skip (the failed position) or rebuild a projector, recorded with the operator's name."""
    try:
        projector = registry.get(name)
    except KeyError:
        raise Http404(name) from None
    user = request.user.get_username()
    try:
        if action == "retry":
            operations.retry(projector, user=user)
            jobs.wake(name)
        elif action == "skip":
            operations.skip(projector, position=_int(request.POST.get("position")) or -1, user=user)
            jobs.wake(name)
        elif action == "rebuild":
            jobs.enqueue_rebuild(name, user)
        else:
            raise Http404(action)
        messages.success(request, f"{name}: {action} started.")
    except operations.OperationError as exc:
        messages.error(request, f"{name}: {exc}")
    return redirect("web:ops")


def _account_context(request: HttpRequest, account_id: UUID, row: dict[str, Any] | None) -> dict[str, Any]:
    """Summary, chart and ledger for the account page, from its summary row (None: not projected yet)."""
    if row is None:
        return {"account_id": account_id, "summary": None, "entries": [], "line": None}
    page_size, cursor = 20, request.GET.get("cursor")
    recent, _ = selectors.ledger(account_id=account_id, cursor=None, limit=CHART_ENTRIES)  # the chart's points
    if cursor:
        entries, next_cursor = selectors.ledger(account_id=account_id, cursor=cursor, limit=page_size)
    else:  # the first page is the newest of the chart's rows: no second query
        entries = recent[:page_size]
        next_cursor = str(entries[-1]["version"]) if len(entries) == page_size else None
    currency = row["currency"]
    names = account_names(actor_for(request.user), (entry["counterparty"] for entry in entries))
    line = _balance_line(row, recent)
    return {
        "account_id": account_id,
        "summary": display.account_summary(row),
        "entries": [display.ledger_entry(entry, currency, names.get(entry["counterparty"])) for entry in entries],
        "next_cursor": next_cursor,
        "line": line,
        "line_low": display.money_text(line.low, currency) if line else "",
        "line_high": display.money_text(line.high, currency) if line else "",
    }


def _balance_line(row: dict[str, Any], recent: list[dict[str, Any]]) -> charts.LineChart | None:
    """The balance since the account opened or, when the chart holds only the newest entries, since the oldest
    entry it holds, from the balance before that entry."""
    if not recent:
        return None
    oldest = recent[-1]
    start_at = oldest["recorded_at"] if len(recent) == CHART_ENTRIES else row["opened_at"]
    return charts.balance_line(
        (start_at, oldest["balance_after"] - oldest["amount"]),
        [(entry["recorded_at"], entry["balance_after"]) for entry in reversed(recent)],
        datetime.now(UTC),
        lambda minor: display.money_text(minor, row["currency"]),
    )


def _daily_chart(totals: dict[date, dict[str, Any]], today: date, currency: str) -> charts.BarChart:
    """The dashboard's bars: a column for each of the last DASHBOARD_DAYS days, quiet ones included."""
    days = [today - timedelta(days=back) for back in reversed(range(DASHBOARD_DAYS))]
    quiet = {"deposits": 0, "withdrawals": 0, "transfers": 0}
    rows = [(day, totals.get(day, quiet)) for day in days]
    return charts.daily_bars(
        [(day, row["deposits"], row["withdrawals"], row["transfers"]) for day, row in rows],
        lambda minor: display.money_text(minor, currency),
    )


def _rebuild_progress() -> dict[str, int]:
    """Percent done for every rebuild in progress: events its shadow has applied against those plus the ones
    it has still to read (positions are not dense, so they say nothing about how much is left)."""
    progress = {}
    for name, position, done in checkpoints.shadows():
        remaining, _ = store.backlog(position)
        progress[name] = 100 * done // max(done + remaining, 1)
    return progress


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _date(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None
    except ValueError:
        return None
