"""How pages show values: money with thousands separators, ledger entry kinds as words, an event's amount and
its payload. Pages only: the JSON API keeps plain decimal strings (commands.domain.money.format_amount), and so
do the payloads shown here, which are JSON as the API would write them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from commands.domain import money
from eventstore.records import Recorded

if TYPE_CHECKING:  # only a type here: formatting needs no database
    from web.account_names import AccountName

ENTRY_KINDS = {
    "deposit": "Deposit",
    "withdrawal": "Withdrawal",
    "transfer_in": "Transfer in",
    "transfer_out": "Transfer out",
}
MONEY_KEYS = ("amount", "overdraft_limit")  # the fields of event data that hold minor units


def money_text(minor: int, currency: str) -> str:
    """Minor units of `currency` as a page shows them: the whole part grouped by thousands, the currency's
    decimals, the sign kept (`money_text(-123456789, "EUR") == "-1,234,567.89"`). Raises InvalidCurrency."""
    plain = money.format_amount(minor, currency)
    sign, digits = ("-", plain[1:]) if plain.startswith("-") else ("", plain)
    whole, point, fraction = digits.partition(".")
    return f"{sign}{int(whole):,}{point}{fraction}"


def entry_kind(kind: str) -> str:
    """A ledger entry's kind (`transfer_in`) as words ("Transfer in")."""
    return ENTRY_KINDS.get(kind) or kind.replace("_", " ").capitalize()


def event_amount(event: Recorded) -> str:
    """The event's amount with its currency ("1,250.00 EUR"), or "" when it moves no money."""
    amount, currency = event.data.get("amount"), event.data.get("currency")
    if not isinstance(amount, int) or currency not in money.CURRENCIES:
        return ""
    return f"{money_text(amount, str(currency))} {currency}"


def event_payload(event: Recorded) -> str:
    """The event's data as the API shows it: amounts as decimal strings in the event's currency."""
    data: dict[str, Any] = dict(event.data)
    currency = data.get("currency")
    for key in MONEY_KEYS:
        if isinstance(data.get(key), int) and isinstance(currency, str):
            data[key] = money.format_amount(data[key], currency)
    return json.dumps(data, indent=2, sort_keys=True, default=str)


def event_row(event: Recorded, account: AccountName | None) -> dict[str, Any]:
    """An event as the event log lists it: the event, its amount and payload as text, and its account's name."""
    return {"event": event, "amount": event_amount(event), "payload": event_payload(event), "account": account}


def account_summary(row: dict[str, Any]) -> dict[str, Any]:
    """An account_summaries row with its balance and overdraft limit as text."""
    currency = row["currency"]
    return row | {
        "balance_text": money_text(row["balance"], currency),
        "overdraft_text": money_text(row["overdraft_limit"], currency),
        "negative": row["balance"] < 0,
    }


def ledger_entry(entry: dict[str, Any], currency: str, other: AccountName | None) -> dict[str, Any]:
    """A ledger row as the account page shows it: what happened in words, the amounts as text, and the other
    account of a transfer (`other`, named as far as the viewer may see it)."""
    return entry | {
        "what": entry_kind(entry["kind"]),
        "other": other,
        "amount_text": money_text(entry["amount"], currency),
        "balance_text": money_text(entry["balance_after"], currency),
    }
