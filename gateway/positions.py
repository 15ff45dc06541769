"""Read-your-own-writes for pages: a browser session remembers the global position of its newest command
(from a form or from the API called with the session cookie), and a page showing an account waits for the read
models to reach it (web.freshness). Requests authenticated by a Bearer token have no session and remember
nothing: API clients pass `min_position` themselves."""

from __future__ import annotations

from django.contrib.auth import SESSION_KEY as USER_KEY
from django.http import HttpRequest

SESSION_KEY = "ledger_last_position"


def remember(request: HttpRequest, position: int) -> None:
    """Keep `position` if it is newer than the one the session holds; nothing without a logged-in session."""
    session = getattr(request, "session", None)
    if session is None or session.get(USER_KEY) is None:
        return
    if position > int(session.get(SESSION_KEY) or 0):
        session[SESSION_KEY] = position


def last(request: HttpRequest) -> int | None:
    """The position of the session's newest command, None when it has issued none."""
    session = getattr(request, "session", None)
    value = session.get(SESSION_KEY) if session is not None else None
    return int(value) if value else None


def forget(request: HttpRequest, position: int) -> None:
    """Drop the remembered position once the read models hold it (unless a newer command replaced it)."""
    session = getattr(request, "session", None)
    if session is not None and session.get(SESSION_KEY) == position:
        del session[SESSION_KEY]
