"""The transfer form's account pickers: find an account by its holder's name (or email, or id) and choose it.

With htmx the search box asks `account_choices` as the user types and the list is swapped in; without
JavaScript the form is posted with the search text, and the page comes back listing what it found (the form
says to choose). Either way the choice is a radio button named like the API's field (`from_account`), and an
id pasted into the search box is taken as it is, so a customer can still pay an account they cannot see (a
bank transfer to an IBAN). Lists hold only accounts the user may see (projections.selectors.account_list):
a customer finds only their own accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from commands.domain import access
from commands.domain.access import Actor, Forbidden
from gateway.actors import actor_for
from projections import selectors
from web import display
from web.forms import TransferForm, pasted_id

LIMIT = 8


@dataclass(frozen=True, slots=True)
class Side:
    field: str
    label: str
    statuses: frozenset[str]  # an account that can take this side of a transfer


SIDES = {
    "from": Side("from_account", "From", frozenset({"open"})),
    "to": Side("to_account", "To", frozenset({"open", "frozen"})),  # a frozen account still receives
}


@dataclass(frozen=True, slots=True)
class Choice:
    account_id: UUID
    holder_name: str
    currency: str
    balance_text: str
    status: str
    checked: bool

    @property
    def short_id(self) -> str:
        return str(self.account_id)[:8]


@dataclass(frozen=True, slots=True)
class Picker:
    side: str
    field: str
    label: str
    search: str
    choices: list[Choice]
    hint: str
    errors: list[str]


@login_required
@require_GET
def account_choices(request: HttpRequest) -> HttpResponse:
    """The picker's list for `?side=from|to&<field>_search=<text>`: 403 for a role that may not transfer or
    reads no accounts, 404 for an unknown side."""
    actor = actor_for(request.user)
    try:
        access.require_command(actor, "Transfer")
        access.require_reader(actor)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    side = request.GET.get("side", "")
    if side not in SIDES:
        raise Http404("no such side of a transfer")
    search = request.GET.get(f"{SIDES[side].field}_search", "").strip()[:200]
    context = {"picker": picker(actor, side, search=search, chosen=None)}
    return render(request, "web/transfer.html#picker-options", context)


def picker_for_form(actor: Actor, form: TransferForm, side: str) -> Picker:
    """The picker as the transfer page shows it: the account the form holds (chosen, preset by `?from=`, or
    pasted), or else what its search text finds, with the field's errors."""
    field = SIDES[side].field
    search = str(form[f"{field}_search"].value() or "")
    chosen = pasted_id(str(form[field].value() or "")) or pasted_id(search)
    return replace(
        picker(actor, side, search=search, chosen=chosen), errors=[str(error) for error in form[field].errors]
    )


def picker(actor: Actor, side: str, *, search: str, chosen: UUID | None) -> Picker:
    """The `chosen` account, checked, when the actor may see it; else the accounts the search text finds."""
    spec = SIDES[side]
    if chosen is not None:
        row = selectors.account_get(account_id=chosen, actor=actor)
        choices = [_choice(row, checked=True)] if row else []
        hint = "" if row else "This account id is sent as it is."
    elif search:
        rows, _ = selectors.account_list(actor=actor, q=search, limit=LIMIT * 2)
        choices = [_choice(row, checked=False) for row in rows if row["status"] in spec.statuses][:LIMIT]
        hint = "" if choices else _nothing_found(actor, side, search)
    else:
        choices, hint = [], "Type part of the holder's name, or paste an account id."
    return Picker(side, spec.field, spec.label, search, choices, hint, [])


def _nothing_found(actor: Actor, side: str, search: str) -> str:
    found = f"No account {'you can send from' if side == 'from' else 'you can see'} matches “{search}”."
    if side == "to" and not actor.sees_everything:
        return f"{found} To pay someone else's account, paste its id."
    return found


def _choice(row: dict[str, Any], *, checked: bool) -> Choice:
    balance = display.money_text(row["balance"], row["currency"])
    account_id = UUID(str(row["account_id"]))  # a cached row holds it as text
    return Choice(account_id, row["holder_name"], row["currency"], balance, row["status"], checked)
