"""The tests' own oracle: what every read model must hold, from each account stream read by its id.

It shares no code with what it checks: raw SQL over `events` by stream id in version order, and the stored
JSON interpreted here by event type name (not the codec, not the domain's evolve, not the projectors). Each
`*_mismatches` function returns human-readable differences; an empty list means the read model is right.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any
from uuid import UUID

from django.db import connection

from eventstore import personal

PREFIX = "account-"
DEBITS = {"FundsWithdrawn": "withdrawal", "TransferSent": "transfer_out"}
CREDITS = {"FundsDeposited": "deposit", "TransferReceived": "transfer_in"}


@dataclass
class Expected:
    """One account as its own stream says it is."""

    account_id: UUID
    version: int = 0
    status: str = ""
    balance: int = 0
    owner: str = ""
    holder_name: str = ""
    email: str = ""
    currency: str = ""
    overdraft_limit: int = 0
    references: list[str] = field(default_factory=list)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)  # large withdrawals and transfers sent


def fold_every_account() -> tuple[dict[UUID, Expected], dict[tuple[date, str], dict[str, int]], list[str]]:
    """Accounts, daily totals, and problems in the streams themselves (a version gap, a position out of
    order), all from the raw rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stream_id, version, position, type, data, recorded_at FROM events WHERE stream_id LIKE %s"
            " ORDER BY stream_id, version",
            [PREFIX + "%"],
        )
        rows = cursor.fetchall()
    found: dict[UUID, Expected] = {}
    totals: dict[tuple[date, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    problems: list[str] = []
    last_position: dict[UUID, int] = {}
    for stream_id, version, position, type_, data, recorded_at in rows:
        data = personal.unseal(json.loads(data) if isinstance(data, str) else data)  # the holder's key opens it
        account_id = UUID(stream_id.removeprefix(PREFIX))
        account = found.setdefault(account_id, Expected(account_id))
        if version != account.version + 1:
            problems.append(f"{stream_id}: version {version} follows {account.version}")
        if position <= last_position.get(account.account_id, -1):
            problems.append(f"{stream_id}: version {version} at position {position} is before its predecessor")
        last_position[account.account_id] = position
        account.version = version
        _apply(account, type_, data, position, recorded_at, totals)
    return found, totals, problems


def _apply(
    account: Expected, type_: str, data: dict[str, Any], position: int, recorded_at: datetime, totals: Any
) -> None:
    day = (recorded_at.date(), data.get("currency", ""))  # the daily_totals row an event counts in
    if type_ == "AccountOpened":
        account.status, account.owner, account.currency = "open", data["owner"], data["currency"]
        account.holder_name, account.email, account.overdraft_limit = (
            data["holder_name"],
            data["email"],
            data["overdraft_limit"],
        )
        totals[day]["accounts_opened"] += 1
    elif type_ in CREDITS or type_ in DEBITS:
        signed = data["amount"] if type_ in CREDITS else -data["amount"]
        account.balance += signed
        if data["reference"]:
            account.references.append(data["reference"])
        account.ledger.append(
            {
                "version": account.version,
                "position": position,
                "kind": CREDITS.get(type_) or DEBITS[type_],
                "amount": signed,
                "balance_after": account.balance,
                "currency": data["currency"],
                "reference": data["reference"],
            }
        )
        if type_ in ("FundsWithdrawn", "TransferSent") and data["amount"] >= _threshold(data["currency"]):
            kind = "large_withdrawal" if type_ == "FundsWithdrawn" else "large_transfer"
            account.notices.append({"position": position, "kind": kind, "amount": data["amount"]})
        counted = {"FundsDeposited": "deposit", "FundsWithdrawn": "withdrawal", "TransferSent": "transfer"}
        if type_ in counted:
            name = counted[type_]
            totals[day][name + "s"] += data["amount"]
            totals[day][name + "_count"] += 1
    elif type_ == "AccountFrozen":
        account.status = "frozen"
    elif type_ == "AccountUnfrozen":
        account.status = "open"
    elif type_ == "AccountClosed":
        account.status = "closed"
    elif type_ == "HolderDetailsChanged":
        account.holder_name, account.email = data["holder_name"], data["email"]
    elif type_ == "HolderDetailsErased":
        account.holder_name = account.email = "erased"
    else:
        raise AssertionError(f"the oracle does not know {type_}: teach it")


def _threshold(currency: str) -> int:
    """LEDGER_ALERT_THRESHOLD in minor units: every currency here has two decimals but JPY."""
    from django.conf import settings

    scaled = Decimal(settings.LEDGER_ALERT_THRESHOLD) * (1 if currency == "JPY" else 100)
    return int(scaled.to_integral_value(ROUND_CEILING))


def summary_mismatches(expected: dict[UUID, Expected]) -> list[str]:
    columns = ("version", "status", "balance", "owner", "holder_name", "email", "currency", "overdraft_limit")
    live = _rows(f"SELECT account_id, {', '.join(columns)} FROM account_summaries", columns)
    return _diff("account_summaries", expected, live, columns)


def search_mismatches(expected: dict[UUID, Expected]) -> list[str]:
    columns = ("version", "status", "owner", "holder_name", "email")
    live = _rows(f"SELECT account_id, {', '.join(columns)} FROM account_search", columns)
    problems = _diff("account_search", expected, live, columns)
    with connection.cursor() as cursor:
        cursor.execute("SELECT account_id, reference_text FROM account_search")
        for account_id, text in cursor.fetchall():
            recent = expected[account_id].references[-3:] if account_id in expected else []
            if missing := [reference for reference in recent if reference not in text]:
                problems.append(f"account_search {account_id}: references {missing} not searchable")
    return problems


def ledger_mismatches(expected: dict[UUID, Expected]) -> list[str]:
    columns = ("version", "position", "kind", "amount", "balance_after", "currency", "reference")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT account_id, {', '.join(columns)} FROM ledger_entries ORDER BY account_id, version")
        live: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
        for account_id, *values in cursor.fetchall():
            live[account_id].append(dict(zip(columns, values, strict=True)))
    problems = []
    for account_id in expected.keys() | live.keys():
        want = expected[account_id].ledger if account_id in expected else []
        if live.get(account_id, []) != want:
            problems.append(f"ledger_entries {account_id}: live {live.get(account_id)} expected {want}")
    return problems


def daily_total_mismatches(totals: dict[tuple[date, str], dict[str, int]]) -> list[str]:
    columns = ("deposits", "deposit_count", "withdrawals", "withdrawal_count", "transfers", "transfer_count",
               "accounts_opened")  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT day, currency, {', '.join(columns)} FROM daily_totals")
        rows = cursor.fetchall()
    live = {(day, currency): dict(zip(columns, values, strict=True)) for day, currency, *values in rows}
    want = {key: {column: sums.get(column, 0) for column in columns} for key, sums in totals.items()}
    return [] if live == want else [f"daily_totals: live {live} expected {want}"]


def notification_mismatches(expected: dict[UUID, Expected]) -> list[str]:
    """One outbox row per withdrawal or sent transfer at or above the alert threshold, and no other."""
    want = {
        (n["position"], n["kind"], account_id, n["amount"]) for account_id, a in expected.items() for n in a.notices
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT position, kind, account_id, amount FROM notifications")
        live = set(cursor.fetchall())
    return [] if live == want else [f"notifications: missing {want - live}, unexpected {live - want}"]


def all_mismatches() -> list[str]:
    """Every read model against the streams (and the streams' own problems)."""
    expected, totals, problems = fold_every_account()
    return (
        problems
        + summary_mismatches(expected)
        + search_mismatches(expected)
        + ledger_mismatches(expected)
        + daily_total_mismatches(totals)
        + notification_mismatches(expected)
    )


def _rows(sql: str, columns: tuple[str, ...]) -> dict[UUID, dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return {row[0]: dict(zip(columns, row[1:], strict=True)) for row in cursor.fetchall()}


def _diff(
    table: str, expected: dict[UUID, Expected], live: dict[UUID, dict[str, Any]], columns: tuple[str, ...]
) -> list[str]:
    problems = []
    for account_id in expected.keys() | live.keys():
        row = live.get(account_id)
        account = expected.get(account_id)
        want = {column: getattr(account, column) for column in columns} if account else None
        if row != want:
            problems.append(f"{table} {account_id}: live {row} expected {want}")
    return problems
