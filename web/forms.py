"""HTML forms for the commands. Field names equal the API's. Every command form carries the version the user
saw (`expected_version`) and an idempotency key minted when the form was rendered, so a double click or a
resubmitted page never applies twice. Forms check the shape of the input; the domain checks the rules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django import forms

from commands.domain.access import Actor, may_issue
from commands.domain.money import CURRENCIES, DEFAULT_CURRENCY


def new_key() -> str:
    return str(uuid.uuid4())


class CommandForm(forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=200)

    def __init__(self, *args: Any, version: int | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("idempotency_key", new_key())
        if version is not None:
            kwargs["initial"].setdefault("expected_version", version)
        super().__init__(*args, **kwargs)


class OpenAccountForm(CommandForm):
    holder_name = forms.CharField(max_length=200)
    email = forms.CharField(max_length=200)
    currency = forms.ChoiceField(choices=[(code, code) for code in CURRENCIES], initial=DEFAULT_CURRENCY)
    overdraft_limit = forms.CharField(max_length=20, initial="0.00")
    owner = forms.CharField(max_length=150, required=False, help_text="username (tellers only)")


class AmountForm(CommandForm):
    amount = forms.CharField(max_length=20)
    reference = forms.CharField(max_length=200, required=False)


class FreezeForm(CommandForm):
    reason = forms.CharField(max_length=200)


class HolderForm(CommandForm):
    holder_name = forms.CharField(max_length=200, required=False)
    email = forms.CharField(max_length=200, required=False)


class TransferForm(CommandForm):
    """Each account is chosen from its picker's list (`from_account`, `to_account`: the API's names), or pasted as
    an id into the picker's search box (`<field>_search`, read only when nothing was chosen). Search text that is
    not an id, with nothing chosen, is an error on the field; the page then lists what it finds (web.picker)."""

    from_account = forms.UUIDField(required=False)
    from_account_search = forms.CharField(max_length=200, required=False)
    to_account = forms.UUIDField(required=False)
    to_account_search = forms.CharField(max_length=200, required=False)
    amount = forms.CharField(max_length=20)
    reference = forms.CharField(max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for field in ("from_account", "to_account"):
            if data.get(field) is not None or field in self.errors:
                continue
            search = data.get(f"{field}_search", "")
            pasted = pasted_id(search)
            if pasted is not None:
                data[field] = pasted
            elif search:
                self.add_error(field, "No account chosen.")  # the picker lists what the text finds
            else:
                self.add_error(field, "Type part of the holder's name and choose the account, or paste its id.")
        return data


def pasted_id(text: str | None) -> uuid.UUID | None:
    """An account id typed or pasted into a search box (surrounding spaces allowed), else None."""
    try:
        return uuid.UUID(text.strip()) if text and text.strip() else None
    except ValueError:
        return None


ACCOUNT_FORMS: dict[str, type[CommandForm]] = {
    "deposit": AmountForm,
    "withdraw": AmountForm,
    "freeze": FreezeForm,
    "unfreeze": CommandForm,
    "close": CommandForm,
    "holder": HolderForm,
}


@dataclass(frozen=True)
class FormSlot:
    name: str
    title: str
    button: str
    form: CommandForm
    confirm: str  # asked before an irreversible command is sent ("" for none)


_SLOTS = (  # name, command, title, button, offered while the account is ..., confirmation
    ("deposit", "Deposit", "Deposit", "Deposit", {"open", "frozen"}, ""),
    ("withdraw", "Withdraw", "Withdraw", "Withdraw", {"open"}, ""),
    (
        "freeze",
        "Freeze",
        "Freeze",
        "Freeze account",
        {"open"},
        "Freeze this account? Withdrawals stop until it is unfrozen.",
    ),
    ("unfreeze", "Unfreeze", "Unfreeze", "Unfreeze account", {"frozen"}, ""),
    ("holder", "ChangeHolderDetails", "Holder details", "Change details", {"open", "frozen"}, ""),
    (
        "close",
        "Close",
        "Close",
        "Close account",
        {"open", "frozen"},
        "Close this account for good? This cannot be undone.",
    ),
)
COMMAND_NAMES = {name: command for name, command, *_ in _SLOTS}


def account_forms(
    actor: Actor, version: int, status: str, bound: tuple[str, CommandForm] | None = None
) -> list[FormSlot]:
    """Fresh forms for the commands the actor may issue and an account in `status` accepts, at `version`, with
    `bound` (a failed submission) in its place. Field names stay the API's (no prefix); element ids are unique
    per form."""
    slots = []
    for name, command, title, button, statuses, confirm in _SLOTS:
        if not may_issue(actor, command) or (status not in statuses and not (bound and bound[0] == name)):
            continue
        form = bound[1] if bound and bound[0] == name else ACCOUNT_FORMS[name](version=version, auto_id=f"{name}-%s")
        slots.append(FormSlot(name, title, button, form, confirm))
    return slots
