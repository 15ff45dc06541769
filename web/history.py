"""The account's history: every event, the state at any version or moment (time travel), and what changed
between two versions. One read of the stream per page: every state shown is a fold of its first events."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from commands.domain import access, accounts
from eventstore import store
from eventstore.records import Recorded
from web import freshness
from web.display import event_payload, money_text

FIELDS = ("status", "balance", "overdraft_limit", "currency", "holder_name", "email", "owner", "frozen_reason")


@dataclass(frozen=True, slots=True)
class Stream:
    account_id: UUID
    events: list[Recorded]

    @property
    def latest(self) -> int:
        return len(self.events)

    def state(self, version: int) -> accounts.Account:
        return self.states(version)[0]

    def states(self, *versions: int) -> list[accounts.Account]:
        """The state at each of `versions` (0: before the first event), from one fold of the stream: a page
        shows up to four, and a long account's fold is most of the page's time."""
        found, state, folded = {}, accounts.Account(), 0
        for version in sorted(set(versions)):  # fold on from the last state kept; keep only those asked for
            events = [cast(accounts.AccountEvent, recorded.event) for recorded in self.events[folded:version]]
            state = found[version] = accounts.fold(events, state)
            folded = version
        return [found[version] for version in versions]

    def version_at(self, moment: datetime) -> int:
        """The version the account had at `moment` (0: it did not exist yet)."""
        return bisect_right([r.recorded_at for r in self.events], moment)


@login_required
@require_GET
def history(request: HttpRequest, account_id: UUID) -> HttpResponse:
    """Every event, and the state at `version` or at the moment `at` (UTC), with what its event changed."""
    stream = _stream(request, account_id)
    chosen, notice = _chosen(request, stream)
    state, previous, newest = stream.states(chosen, chosen - 1, stream.latest)
    before = previous if chosen > 1 else None
    context = {
        "account_id": account_id,
        "holder": newest.holder_name,
        "events": [(event, event_payload(event)) for event in reversed(stream.events)],
        "latest": stream.latest,
        "version": chosen,
        "fields": state_fields(state, before),
        "event_at": stream.events[chosen - 1],
        "at": request.GET.get("at", ""),
        "notice": notice,
        "nav": "accounts",
    }
    template = "web/history.html" + ("#state" if request.htmx else "")  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
@require_GET
def compare(request: HttpRequest, account_id: UUID) -> HttpResponse:
    """Two versions side by side: every field with the changed ones marked, and the events between them."""
    stream = _stream(request, account_id)
    first = _version(request.GET.get("from"), stream.latest, default=max(stream.latest - 1, 1))
    second = _version(request.GET.get("to"), stream.latest, default=stream.latest)
    first, second = min(first, second), max(first, second)
    old, new, newest = stream.states(first, second, stream.latest)
    context = {
        "account_id": account_id,
        "holder": newest.holder_name,
        "latest": stream.latest,
        "first": first,
        "second": second,
        "rows": [
            (label, a, b, a != b) for (label, a, _), (_, b, _) in zip(state_fields(old), state_fields(new), strict=True)
        ],
        "between": [(event, event_payload(event)) for event in stream.events[first:second]],
        "nav": "accounts",
    }
    return render(request, "web/compare.html", context)


def state_fields(state: accounts.Account, previous: accounts.Account | None = None) -> list[tuple[str, str, bool]]:
    """(label, value as shown, changed since `previous`) for each field of the account's state."""
    shown = [_shown(state, name) for name in FIELDS]
    before = [_shown(previous, name) for name in FIELDS] if previous is not None else shown
    return [
        (name.replace("_", " "), value, value != old) for name, value, old in zip(FIELDS, shown, before, strict=True)
    ]


def _stream(request: HttpRequest, account_id: UUID) -> Stream:
    """The account's events, read once; 403 for a role that reads no accounts, 404 when it does not exist or
    is not the user's (the same answer)."""
    actor = freshness.reader(request)
    events = store.load(accounts.account_stream(account_id)).events
    stream = Stream(account_id, events)
    opened = stream.state(1) if events else accounts.Account()
    if opened.status == "new" or not access.may_see(actor, opened.owner):
        raise Http404("no such account")
    return stream


def _chosen(request: HttpRequest, stream: Stream) -> tuple[int, str]:
    """The version asked for, by `at` (a moment) or `version`; and a notice when the moment needed one."""
    text = request.GET.get("at", "").strip()
    if not text:
        return _version(request.GET.get("version"), stream.latest, default=stream.latest), ""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return stream.latest, f"“{text}” is not a date and time; showing the latest version."
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    version = stream.version_at(moment)
    if version == 0:
        return 1, f"The account did not exist yet at {moment:%Y-%m-%d %H:%M} UTC; showing its opening."
    return version, ""


def _version(text: str | None, latest: int, *, default: int) -> int:
    try:
        version = int(text) if text else default
    except ValueError:
        version = default
    return min(max(version, 1), latest)


def _shown(account: accounts.Account, name: str) -> str:
    value = getattr(account, name)
    if name in {"balance", "overdraft_limit"}:
        return money_text(value, account.currency) if account.currency else "0"
    return str(value or "")
