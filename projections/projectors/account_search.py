"""Full-text account search (PostgreSQL tsvector + GIN, prefix matching as a user types): serves
GET /api/accounts?q= and the accounts page's live search."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from commands.domain import accounts
from eventstore.records import Recorded
from projections.bulk import account_rows, evolve_rows, upsert
from projections.projector import Projector
from projections.target import Target

TABLE = "account_search"
COLUMNS = ("account_id", "owner", "status", "holder_name", "email", "reference_text", "version")
MAX_REFERENCES = 2000  # characters of recent references kept searchable per account


def apply(cursor: Any, events: Sequence[Recorded], target: Target, *, replay: bool = False) -> None:
    mine = [recorded for recorded in events if isinstance(recorded.event, accounts.EVENTS)]
    if not mine:
        return
    table = target.table(TABLE)
    changed = evolve_rows(mine, account_rows(cursor, table, COLUMNS, mine), _step, replay=replay)
    if not changed:
        return
    # 'simple' (no stemming, no stop words) suits names and e-mail addresses; PostgreSQL tokenizes.
    values = [(*(row[c] for c in COLUMNS), _text(row)) for row in changed.values()]
    upsert(
        cursor,
        table,
        (*COLUMNS, "document"),
        values,
        conflict=("account_id",),
        guard="t.version < EXCLUDED.version",
        computed={"document": ("text", "to_tsvector('simple', {})")},
    )


def _text(row: dict[str, Any]) -> str:
    return " ".join((row["holder_name"], row["email"], row["reference_text"]))


def _step(row: dict[str, Any] | None, recorded: Recorded) -> dict[str, Any]:
    event: Any = recorded.event
    start = dict(row) if row else {"account_id": event.account_id, "reference_text": ""}
    return _evolve(start, event) | {"version": recorded.version}


def _evolve(row: dict[str, Any], event: Any) -> dict[str, Any]:
    match event:
        case accounts.AccountOpened():
            row |= {
                "owner": event.owner,
                "status": "open",
                "holder_name": event.holder_name,
                "email": event.email,
            }
        case accounts.HolderDetailsChanged():
            row |= {"holder_name": event.holder_name, "email": event.email}
        case accounts.HolderDetailsErased():
            row |= {"holder_name": accounts.ERASED, "email": accounts.ERASED}
        case accounts.AccountFrozen():
            row["status"] = "frozen"
        case accounts.AccountUnfrozen():
            row["status"] = "open"
        case accounts.AccountClosed():
            row["status"] = "closed"
        case _ if getattr(event, "reference", ""):
            row["reference_text"] = (event.reference + " " + row["reference_text"])[:MAX_REFERENCES]
    return row


PROJECTOR = Projector(
    name=TABLE,
    tables=(TABLE,),
    apply=apply,
    serves="GET /api/accounts?q= and the accounts page's live search",
    compare={TABLE: ("account_id",)},
)
