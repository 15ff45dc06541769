"""The read models as they must be, computed without the projectors and without the global reader.

Each account's stream is read by its id in version order (not through `read_all`), cut at the position the
live tables reflect, and folded here: the summary with the domain's own `evolve` (what commands decide on),
the ledger, search text and daily totals by plain loops written for this check. `differences()` compares
that with the live tables, in one REPEATABLE READ snapshot so the projector may go on meanwhile. A bug in
the reader, the runner, the bulk SQL or a projector shows up here even when a rebuild reproduces it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, Decimal
from email.utils import formataddr
from typing import Any, cast
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction

from commands.domain import accounts, money
from eventstore import personal
from eventstore.codec import codec

STREAMS_PER_BATCH = 500
MAX_REFERENCES = 2000  # as the search projector keeps them
MAX_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Difference:
    """One row that is not as it should be. `check` says against what: "fold" (this module) or "rebuild"."""

    table: str
    check: str
    key: dict[str, Any]
    live: dict[str, Any] | None  # None: the row is missing from the live table
    expected: dict[str, Any] | None  # None: the live table has a row that should not exist

    def changed_columns(self) -> list[str]:
        if self.live is None or self.expected is None:
            return []
        return [column for column, value in self.expected.items() if self.live.get(column) != value]


@dataclass(slots=True)
class Differences:
    """A count of differences, with the first MAX_SHOWN of them."""

    count: int = 0
    shown: list[Difference] = field(default_factory=list)

    def add(self, difference: Difference) -> None:
        self.count += 1
        if len(self.shown) < MAX_SHOWN:
            self.shown.append(difference)


@dataclass(slots=True)
class OracleResult(Differences):
    checkpoint: int = 0
    streams: int = 0


# Per table: the key columns and the compared columns (surrogate ids, watermarks and tsvectors left out).
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "account_summaries": (
        ("account_id",),
        ("owner", "holder_name", "email", "status", "currency", "balance", "overdraft_limit", "version",
         "opened_at", "updated_at"),
    ),
    "account_search": (("account_id",), ("owner", "status", "holder_name", "email", "reference_text", "version")),
    "ledger_entries": (
        ("account_id", "version"),
        ("position", "kind", "amount", "balance_after", "currency", "reference", "counterparty", "transfer_id",
         "recorded_at"),
    ),
    "ledger_heads": (("account_id",), ("version", "balance")),
    "notification_accounts": (("account_id",), ("holder_name", "email", "version")),
    "notifications": (("position",), ("kind", "account_id", "amount", "currency", "recipient")),
    "daily_totals": (
        ("day", "currency"),
        ("deposits", "deposit_count", "withdrawals", "withdrawal_count", "transfers", "transfer_count",
         "accounts_opened"),
    ),
}  # fmt: skip


def differences(tables: tuple[str, ...], checkpoint_name: str) -> OracleResult:
    """Compare `tables` (live) with the fold of every account stream up to the projector's checkpoint."""
    own_transaction = not connection.in_atomic_block  # inside a caller's (a test's), its snapshot rules
    with transaction.atomic(), connection.cursor() as cursor:
        if own_transaction:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT position FROM projection_checkpoints WHERE name = %s", [checkpoint_name])
        row = cursor.fetchone()
        result = OracleResult(checkpoint=int(row[0]) if row else 0)
        totals: dict[tuple[date, str], dict[str, int]] = {}
        seen: set[UUID] = set()
        for streams in _stream_batches(cursor, result.checkpoint):
            result.streams += len(streams)
            expected: dict[str, list[dict[str, Any]]] = {table: [] for table in tables}
            for account_id, events in streams.items():
                seen.add(account_id)
                _expect_account(account_id, events, expected, totals)
            for table in tables:
                if table != "daily_totals":
                    _compare(cursor, table, expected[table], result, ids=list(streams))
        for table in tables:
            if table == "daily_totals":
                rows = [{"day": day, "currency": currency, **sums} for (day, currency), sums in totals.items()]
                _compare(cursor, table, rows, result, ids=None)
            else:
                _extra_live_rows(cursor, table, seen, result)
    return result


def _stream_batches(cursor: Any, checkpoint: int) -> Iterator[dict[UUID, list[tuple[Any, ...]]]]:
    """{account_id: [(position, version, decoded event, recorded_at)]}, each stream read by id in version
    order and cut before its first event above `checkpoint` (the projector cannot have seen past that)."""
    after = ""
    while True:
        cursor.execute(
            "SELECT stream_id FROM events WHERE version = 1 AND stream_id LIKE %s AND stream_id > %s"
            " AND position <= %s ORDER BY stream_id LIMIT %s",
            [accounts.STREAM_PREFIX + "%", after, checkpoint, STREAMS_PER_BATCH],
        )
        names = [name for (name,) in cursor.fetchall()]
        if not names:
            return
        after = names[-1]
        cursor.execute(
            "SELECT stream_id, version, position, type, schema_version, data, recorded_at FROM events"
            " WHERE stream_id = ANY(%s) ORDER BY stream_id, version",
            [names],
        )
        streams: dict[UUID, list[tuple[Any, ...]]] = {}
        cut: set[str] = set()
        for stream_id, version, position, type_, schema_version, data, recorded_at in cursor.fetchall():
            if stream_id in cut or position > checkpoint:
                cut.add(stream_id)
                continue
            stored = json.loads(data) if isinstance(data, str) else data
            event = codec.decode(type_, schema_version, personal.unseal(stored))
            account_id = UUID(stream_id.removeprefix(accounts.STREAM_PREFIX))
            streams.setdefault(account_id, []).append((position, version, event, recorded_at))
        yield streams


def _expect_account(
    account_id: UUID,
    events: list[tuple[Any, ...]],
    expected: dict[str, list[dict[str, Any]]],
    totals: dict[tuple[date, str], dict[str, int]],
) -> None:
    state = accounts.Account()
    balance, references, opened_at = 0, "", events[0][3]
    for position, version, event, recorded_at in events:
        state = accounts.evolve(state, cast(accounts.AccountEvent, event))
        movement = _movement(event)
        if movement is not None:
            kind, amount, counterparty = movement
            balance += amount
            expected.get("ledger_entries", []).append(
                {
                    "account_id": account_id,
                    "version": version,
                    "position": position,
                    "kind": kind,
                    "amount": amount,
                    "balance_after": balance,
                    "currency": event.currency,
                    "reference": event.reference,
                    "counterparty": counterparty,
                    "transfer_id": getattr(event, "transfer_id", None),
                    "recorded_at": recorded_at,
                }
            )
        if getattr(event, "reference", ""):
            references = (event.reference + " " + references)[:MAX_REFERENCES]
        notice = {accounts.FundsWithdrawn: "large_withdrawal", accounts.TransferSent: "large_transfer"}.get(type(event))
        if notice and event.amount >= _alert_threshold(event.currency):
            recipient = formataddr((state.holder_name, state.email))
            expected.get("notifications", []).append(
                {"position": position, "kind": notice, "account_id": account_id, "amount": event.amount,
                 "currency": event.currency, "recipient": recipient}
            )  # fmt: skip
        _count(totals, event, recorded_at)
    last_version, last_recorded = events[-1][1], events[-1][3]
    fields = {"owner": state.owner, "holder_name": state.holder_name, "email": state.email, "status": state.status}
    expected.get("account_summaries", []).append(
        {
            "account_id": account_id,
            **fields,
            "currency": state.currency,
            "balance": state.balance,
            "overdraft_limit": state.overdraft_limit,
            "version": last_version,
            "opened_at": opened_at,
            "updated_at": last_recorded,
        }
    )
    expected.get("account_search", []).append(
        {"account_id": account_id, **fields, "reference_text": references, "version": last_version}
    )
    expected.get("ledger_heads", []).append({"account_id": account_id, "version": last_version, "balance": balance})
    expected.get("notification_accounts", []).append(
        {"account_id": account_id, "holder_name": state.holder_name, "email": state.email, "version": last_version}
    )


def _alert_threshold(currency: str) -> int:
    """LEDGER_ALERT_THRESHOLD in minor units of `currency`, rounded up."""
    scaled = Decimal(settings.LEDGER_ALERT_THRESHOLD) * 10 ** money.decimals(currency)
    return int(scaled.to_integral_value(ROUND_CEILING))


def _movement(event: object) -> tuple[str, int, UUID | None] | None:
    match event:
        case accounts.FundsDeposited(amount=amount):
            return "deposit", amount, None
        case accounts.FundsWithdrawn(amount=amount):
            return "withdrawal", -amount, None
        case accounts.TransferSent(amount=amount, to_account=other):
            return "transfer_out", -amount, other
        case accounts.TransferReceived(amount=amount, from_account=other):
            return "transfer_in", amount, other
    return None


def _count(totals: dict[tuple[date, str], dict[str, int]], event: Any, recorded_at: Any) -> None:
    counted = {
        accounts.AccountOpened: ("accounts_opened", None),
        accounts.FundsDeposited: ("deposit_count", "deposits"),
        accounts.FundsWithdrawn: ("withdrawal_count", "withdrawals"),
        accounts.TransferSent: ("transfer_count", "transfers"),  # a transfer counts once, on its sending side
    }.get(type(event))
    if counted is None:
        return
    count_column, sum_column = counted
    day = totals.setdefault((recorded_at.date(), event.currency), dict.fromkeys(TABLES["daily_totals"][1], 0))
    day[count_column] += 1
    if sum_column:
        day[sum_column] += event.amount


def _compare(
    cursor: Any, table: str, expected: list[dict[str, Any]], result: OracleResult, ids: list[UUID] | None
) -> None:
    """Compare expected rows with the live rows of the same accounts (`ids`), or of the whole table."""
    keys, columns = TABLES[table]
    selected = (*keys, *columns)
    where, params = ("WHERE account_id = ANY(%s)", [ids]) if ids is not None else ("", [])
    cursor.execute(f'SELECT {", ".join(selected)} FROM "{table}" {where}', params)
    live = {tuple(row[: len(keys)]): dict(zip(selected, row, strict=True)) for row in cursor.fetchall()}
    for row in expected:
        key = tuple(row[k] for k in keys)
        found = live.pop(key, None)
        if found is None or any(found[c] != row[c] for c in columns):
            result.add(Difference(table, "fold", dict(zip(keys, key, strict=True)), found, row))
    for key, row in live.items():
        result.add(Difference(table, "fold", dict(zip(keys, key, strict=True)), row, None))


def _extra_live_rows(cursor: Any, table: str, seen: set[UUID], result: OracleResult) -> None:
    """Live rows of accounts whose streams had no event up to the checkpoint."""
    keys, columns = TABLES[table]
    selected = (*keys, *columns)
    cursor.execute(f'SELECT {", ".join(selected)} FROM "{table}" WHERE NOT (account_id = ANY(%s))', [list(seen)])
    for row in cursor.fetchall():
        found = dict(zip(selected, row, strict=True))
        result.add(Difference(table, "fold", {k: found[k] for k in keys}, found, None))
