"""Who holds the other accounts a page mentions (a transfer's other side, an event's stream): one query for the
page's rows, and each name shown only as far as the viewer may see that account (commands.domain.access). A
customer sending money to someone else's account learns nothing of it, so that account is "another account"."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from commands.domain.access import Actor, may_see
from projections.models import AccountSummary


@dataclass(frozen=True, slots=True)
class AccountName:
    text: str
    account_id: UUID | None = None  # set when the viewer may open the account: the page links to it


HIDDEN = AccountName("another account")


def account_names(actor: Actor, account_ids: Iterable[UUID | None]) -> dict[UUID | None, AccountName]:
    """The name to show for each account id (None ids have none: `.get(None)` is None). An account the read
    model does not hold yet is named by its id's start for staff; for a customer it is "another account", as is
    any account not theirs."""
    wanted = {account_id for account_id in account_ids if account_id is not None}
    if not wanted:
        return {}
    rows = AccountSummary.objects.filter(account_id__in=wanted).values_list("account_id", "owner", "holder_name")
    found = {account_id: (owner, holder) for account_id, owner, holder in rows}
    names: dict[UUID | None, AccountName] = {}
    for account_id in wanted:
        owner, holder = found.get(account_id, (None, ""))
        if owner is not None and may_see(actor, owner):
            names[account_id] = AccountName(holder, account_id)
        elif owner is None and actor.sees_everything:
            names[account_id] = AccountName(f"account {str(account_id)[:8]}…", account_id)
        else:
            names[account_id] = HIDDEN
    return names


def stream_account(stream_id: str) -> UUID | None:
    """The account of an `account-<id>` stream (None for any other stream)."""
    if not stream_id.startswith("account-"):
        return None
    try:
        return UUID(stream_id.removeprefix("account-"))
    except ValueError:
        return None
