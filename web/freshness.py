"""Read-your-own-writes for pages. The session remembers the position of its newest command
(gateway.positions); a page that shows an account first waits, at most WAIT_SECONDS, for the account's read
models to reach it. Positions are global and projectors apply events in their order, so reaching it means
every earlier command of this user is shown too, on any account."""

from __future__ import annotations

import time
from dataclasses import dataclass
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from commands import services
from commands.domain import accounts
from commands.domain.access import Actor, Forbidden, require_reader
from commands.domain.errors import AccountNotFound
from gateway import positions
from gateway.actors import actor_for
from projections import selectors, status

ACCOUNT_PANELS = ("account_summaries", "ledger_entries")
WAIT_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class AccountNow:
    """What the account's command forms need: its version and status, and the position still pending."""

    summary: dict[str, object] | None
    version: int
    status: str
    pending: int | None


def caught_up(position: int) -> bool:
    return status.have_reached(ACCOUNT_PANELS, position)


def wait_for_own_writes(request: HttpRequest) -> int | None:
    """Wait until the account read models hold the session's newest command; None when they do, else (after
    WAIT_SECONDS) its position, for the page's "updating" badge. Forgets the position once it is reached."""
    position = positions.last(request)
    if position is None:
        return None
    deadline = time.monotonic() + WAIT_SECONDS
    while not caught_up(position):
        if time.monotonic() > deadline:
            return position
        time.sleep(0.05)
    positions.forget(request, position)
    return None


def reader(request: HttpRequest) -> Actor:
    """The user's Actor; 403 for a role that reads no accounts."""
    actor = actor_for(request.user)
    try:
        require_reader(actor)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    return actor


def visible_summary(request: HttpRequest, account_id: UUID) -> dict[str, object] | None:
    """The account's summary row, or None while its read model has not caught up with its opening yet; 403 for
    a role that reads no accounts, 404 when the account does not exist or is not the user's."""
    actor = reader(request)
    row = selectors.account_get(account_id=account_id, actor=actor, use_cache=False)  # it carries the owner
    if row is not None:
        return row
    try:  # no row: missing, someone else's, or not projected yet; the opening event tells which
        selectors.require_visible(account_id=account_id, actor=actor)
    except AccountNotFound:
        raise Http404("no such account") from None
    return None


def account_now(request: HttpRequest, account_id: UUID) -> AccountNow:
    """The account as its forms need it, after waiting for the user's own writes. While the read model is
    still behind them, the version comes from the event store, so a form never carries one older than theirs."""
    pending = wait_for_own_writes(request)
    row = visible_summary(request, account_id)
    if row is not None and pending is None:
        return AccountNow(row, int(str(row["version"])), str(row["status"]), None)
    loaded = services.load_account(accounts.account_stream(account_id))
    return AccountNow(row, loaded.history.version, loaded.state.status, pending)
