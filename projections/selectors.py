"""Queries on the read models. Every answer says which projection position it reflects."""

from __future__ import annotations

import base64
import binascii
import re
import time
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from django.db import connection

from commands.domain import accounts
from commands.domain.access import Actor, may_see, require_reader
from commands.domain.errors import AccountNotFound
from eventstore import store
from projections import cache, status
from projections.projectors import account_summaries, ledger_entries
from projections.projectors import daily_totals as daily_totals_projector

WAIT_SECONDS = 2.0
_COLUMNS = account_summaries.COLUMNS
_LEDGER_COLUMNS = tuple(column for column in ledger_entries.COLUMNS if column != "account_id")  # one account's
_TOTALS_COLUMNS = tuple(column for column in daily_totals_projector.COLUMNS if column != "last_position")  # sums
_UUID_PREFIX = re.compile(r"[0-9a-f]{4,8}(-[0-9a-f]{0,4}){0,4}[0-9a-f-]*")


class BadCursor(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Freshness:
    projection_position: int
    stale: bool


def wait_for(projector: str, min_position: int | None) -> Freshness:
    """Read-your-writes: wait up to WAIT_SECONDS for the projector to reach `min_position`."""
    deadline = time.monotonic() + WAIT_SECONDS
    while min_position and not status.has_reached(projector, min_position):
        if time.monotonic() > deadline:
            return Freshness(status.checkpoint(projector), stale=True)
        time.sleep(0.05)
    return Freshness(status.checkpoint(projector), stale=False)


def require_visible(*, account_id: UUID, actor: Actor) -> None:
    """Before any other work on an account: raises Forbidden when the actor's role reads no accounts, and
    AccountNotFound when it does not exist or is another customer's (the same answer: ids cannot be probed).
    Reads its opening event only (the read model may not have caught up with a new account yet)."""
    require_reader(actor)
    opened = store.load(accounts.account_stream(account_id), until_version=1).events
    owner = getattr(opened[0].event, "owner", None) if opened else None
    if owner is None or not may_see(actor, owner):
        raise AccountNotFound(f"account {account_id} does not exist", account_id=account_id)


def account_get(*, account_id: UUID, actor: Actor, use_cache: bool = True) -> dict[str, Any] | None:
    """The account's summary, or None if missing or not the actor's.

    From the cache when allowed; read-your-writes callers pass use_cache=False, because the projector writes
    the cache only after its commit, so a checkpoint can be ahead of the cached row for a moment. Raises
    Forbidden for a role that reads no accounts.
    """
    require_reader(actor)
    row = cache.get(account_id) if use_cache else None
    if row is None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(_COLUMNS)} FROM account_summaries WHERE account_id = %s", [account_id])
            found = cursor.fetchone()
        if found is None:
            return None
        row = dict(zip(_COLUMNS, found, strict=True))
        cache.add(row)
    if not actor.sees_everything and row["owner"] != actor.username:
        return None
    return row


def account_list(
    *, actor: Actor, q: str = "", status_filter: str = "", cursor: str | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], str | None]:
    """Accounts matching the search, best match first (or newest first without a query); customers see
    their own. Cursor pagination by (rank, account_id). Raises Forbidden for a role that reads no accounts."""
    require_reader(actor)
    where: list[str] = ["TRUE"]
    params: list[Any] = []
    if not actor.sees_everything:
        where.append("s.owner = %s")
        params.append(actor.username)
    if status_filter:
        where.append("s.status = %s")
        params.append(status_filter)
    rank = "0::real"
    terms = _prefix_query(q)
    if terms:
        id_prefix = q.strip().lower()
        matches_id = _UUID_PREFIX.fullmatch(id_prefix) is not None
        where.append(
            "(s.document @@ to_tsquery('simple', %s)" + (" OR s.account_id::text LIKE %s)" if matches_id else ")")
        )
        params += [terms, id_prefix + "%"] if matches_id else [terms]
        rank = "ts_rank(s.document, to_tsquery('simple', %s))"
        params.insert(0, terms)
    after_rank, after_id = _decode(cursor)
    if after_id is not None:
        where.append(f"({rank}, s.account_id) < (%s, %s)" if terms else "s.account_id < %s")
        params += [terms, after_rank, after_id] if terms else [after_id]
    sql = (
        f"SELECT {rank} AS rank, {', '.join('a.' + c for c in _COLUMNS)} FROM account_search s"
        f" JOIN account_summaries a USING (account_id) WHERE {' AND '.join(where)}"
        f" ORDER BY rank DESC, s.account_id DESC LIMIT %s"
    )
    with connection.cursor() as db:
        db.execute(sql, [*params, limit])
        rows = db.fetchall()
    items = [dict(zip(_COLUMNS, row[1:], strict=True)) for row in rows]
    next_cursor = _encode(rows[-1][0], rows[-1][1]) if len(rows) == limit else None
    return items, next_cursor


def ledger(*, account_id: UUID, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """The account's ledger entries, newest first, with the balance after each."""
    columns = _LEDGER_COLUMNS
    before = int(cursor) if cursor and cursor.isdigit() else None
    if cursor and before is None:
        raise BadCursor(cursor)
    with connection.cursor() as db:
        db.execute(
            f"SELECT {', '.join(columns)} FROM ledger_entries WHERE account_id = %s AND version < %s"
            " ORDER BY version DESC LIMIT %s",
            [account_id, before or 2**31 - 1, limit],
        )
        items = [dict(zip(columns, row, strict=True)) for row in db.fetchall()]
    return items, (str(items[-1]["version"]) if len(items) == limit else None)


def daily_totals(*, since: date) -> list[dict[str, Any]]:
    columns = _TOTALS_COLUMNS
    with connection.cursor() as db:
        db.execute(f"SELECT {', '.join(columns)} FROM daily_totals WHERE day >= %s ORDER BY day, currency", [since])
        return [dict(zip(columns, row, strict=True)) for row in db.fetchall()]


def _prefix_query(q: str) -> str:
    """'ali lid' -> 'ali:* & lid:*' (words only: tsquery operators in user input are dropped)."""
    words = re.findall(r"[\w@.+-]+", q.lower())
    return " & ".join(f"{_quote(word)}:*" for word in words[:8])


def _quote(word: str) -> str:
    return "'" + word.replace("'", "") + "'"


def _encode(rank: float, account_id: UUID) -> str:
    return base64.urlsafe_b64encode(f"{rank!r}|{account_id}".encode()).decode().rstrip("=")


def _decode(cursor: str | None) -> tuple[float | None, UUID | None]:
    if not cursor:
        return None, None
    try:
        rank, account_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|")
        return float(rank), UUID(account_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadCursor(cursor) from None


NOTIFICATION_COLUMNS = ("id", "position", "kind", "account_id", "amount", "currency", "status", "attempts",
                        "last_error", "sent_at")  # fmt: skip


def notification_list(
    *, status_filter: str = "", cursor: str | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], str | None]:
    """The outbox, newest first; the cursor is the last id of a page."""
    before = int(cursor) if cursor and cursor.isdigit() else None
    if cursor and before is None:
        raise BadCursor(cursor)
    where: list[str] = ["id < %s"]
    params: list[Any] = [before or 2**63 - 1]
    if status_filter:
        where.append("status = %s")
        params.append(status_filter)
    with connection.cursor() as db:
        db.execute(
            f"SELECT {', '.join(NOTIFICATION_COLUMNS)} FROM notifications WHERE {' AND '.join(where)}"
            " ORDER BY id DESC LIMIT %s",
            [*params, limit],
        )
        items = [dict(zip(NOTIFICATION_COLUMNS, row, strict=True)) for row in db.fetchall()]
    return items, (str(items[-1]["id"]) if len(items) == limit else None)


def notification_counts() -> dict[str, int]:
    """How many notifications are in each status."""
    with connection.cursor() as db:
        db.execute("SELECT status, count(*) FROM notifications GROUP BY status")
        return dict(db.fetchall())
