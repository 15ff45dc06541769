"""The account aggregate: commands, events, state, `decide`, `evolve` and `fold`. Standard library only.

`decide(command, state)` returns the events a command causes, or raises a DomainError naming the broken
rule; a command that has already taken effect (opening an open account, freezing a frozen one) returns [].
`decide_transfer` decides for both accounts of a transfer at once. The clock and ids arrive on commands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, ClassVar, Literal, assert_never
from uuid import UUID

from commands.domain import money
from commands.domain.errors import (
    AccountClosedError,
    AccountFrozenError,
    AccountNotFound,
    BalanceNotZero,
    CurrencyMismatch,
    InsufficientFunds,
    InvalidHolder,
    InvalidText,
    SameAccount,
)

Status = Literal["new", "open", "frozen", "closed"]
STREAM_PREFIX = "account-"
STATE_SCHEMA = 2  # raise when Account's fields change: older snapshots are then ignored
MAX_TEXT = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# The holder's personal data: the store seals these fields with the owner's key, and after the owner is
# forgotten they read as ERASED (the same word eventstore.personal uses for a destroyed key).
PERSONAL = ("holder_name", "email")
ERASED = "erased"


def account_stream(account_id: UUID) -> str:
    """The one place a stream name is made from an account id."""
    return f"{STREAM_PREFIX}{account_id}"


# --- commands ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenAccount:
    account_id: UUID
    holder_name: str
    email: str
    currency: str
    overdraft_limit: int  # minor units, >= 0
    owner: str  # username
    now: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Deposit:
    account_id: UUID
    amount: int
    reference: str
    now: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Withdraw:
    account_id: UUID
    amount: int
    reference: str
    now: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Freeze:
    account_id: UUID
    reason: str
    now: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Unfreeze:
    account_id: UUID
    now: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Close:
    account_id: UUID
    now: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeHolderDetails:
    account_id: UUID
    holder_name: str | None
    email: str | None
    now: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class EraseHolderDetails:
    """The owner was forgotten: the account keeps its money and history, the holder's details are erased."""

    account_id: UUID
    now: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer:
    transfer_id: UUID
    from_account: UUID
    to_account: UUID
    amount: int
    reference: str
    now: datetime


AccountCommand = OpenAccount | Deposit | Withdraw | Freeze | Unfreeze | Close | ChangeHolderDetails | EraseHolderDetails


# --- events --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountOpened:
    schema_version: ClassVar[int] = 1
    personal_data: ClassVar[tuple[str, ...]] = PERSONAL
    account_id: UUID
    holder_name: str
    email: str
    currency: str
    overdraft_limit: int
    owner: str
    opened_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class FundsDeposited:
    schema_version: ClassVar[int] = 1
    account_id: UUID
    amount: int
    currency: str
    reference: str
    deposited_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class FundsWithdrawn:
    schema_version: ClassVar[int] = 1
    account_id: UUID
    amount: int
    currency: str
    reference: str
    withdrawn_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferSent:
    schema_version: ClassVar[int] = 1
    account_id: UUID
    transfer_id: UUID
    to_account: UUID
    amount: int
    currency: str
    reference: str
    sent_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferReceived:
    schema_version: ClassVar[int] = 1
    account_id: UUID
    transfer_id: UUID
    from_account: UUID
    amount: int
    currency: str
    reference: str
    received_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountFrozen:
    schema_version: ClassVar[int] = 1
    account_id: UUID
    reason: str
    frozen_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountUnfrozen:
    schema_version: ClassVar[int] = 1
    account_id: UUID
    unfrozen_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountClosed:
    schema_version: ClassVar[int] = 1
    account_id: UUID
    closed_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class HolderDetailsChanged:
    schema_version: ClassVar[int] = 1
    personal_data: ClassVar[tuple[str, ...]] = PERSONAL
    account_id: UUID
    holder_name: str
    email: str
    changed_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class HolderDetailsErased:
    schema_version: ClassVar[int] = 1
    account_id: UUID
    erased_at: datetime


AccountEvent = (
    AccountOpened
    | FundsDeposited
    | FundsWithdrawn
    | TransferSent
    | TransferReceived
    | AccountFrozen
    | AccountUnfrozen
    | AccountClosed
    | HolderDetailsChanged
    | HolderDetailsErased
)
EVENTS: tuple[type, ...] = AccountEvent.__args__


# --- state ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Account:
    """Only what `decide` needs, plus what the temporal view shows.

    `version` counts the events folded into the state, so a state that claims to be at a stream version it
    is not at (a snapshot kept at the wrong version, or from a bug) is found by comparing the two.
    """

    personal_data: ClassVar[tuple[str, ...]] = PERSONAL
    version: int = 0
    status: Status = "new"
    balance: int = 0
    currency: str = ""
    overdraft_limit: int = 0
    owner: str = ""
    holder_name: str = ""
    email: str = ""
    frozen_reason: str = ""


def evolve(state: Account, event: AccountEvent) -> Account:
    if isinstance(event, AccountOpened):
        return Account(
            version=state.version + 1,
            status="open",
            currency=event.currency,
            overdraft_limit=event.overdraft_limit,
            owner=event.owner,
            holder_name=event.holder_name,
            email=event.email,
        )
    return replace(state, version=state.version + 1, **_changes(state.balance, event))


def _changes(balance: int, event: AccountEvent) -> dict[str, Any]:
    """The fields an event other than the opening one sets, given the balance before it."""
    match event:
        case FundsDeposited() | TransferReceived():
            return {"balance": balance + event.amount}
        case FundsWithdrawn() | TransferSent():
            return {"balance": balance - event.amount}
        case AccountFrozen():
            return {"status": "frozen", "frozen_reason": event.reason}
        case AccountUnfrozen():
            return {"status": "open", "frozen_reason": ""}
        case AccountClosed():
            return {"status": "closed"}
        case HolderDetailsChanged():
            return {"holder_name": event.holder_name, "email": event.email}
        case HolderDetailsErased():
            return {"holder_name": ERASED, "email": ERASED}
        case AccountOpened():  # handled by evolve
            return {}
        case _:
            assert_never(event)


def fold(events: list[AccountEvent], state: Account | None = None) -> Account:
    """The state after `events`, from `state` (a new account if none): the same as applying `evolve` to each
    in turn, but the fields change in one dict and the Account is built once at the end instead of copied
    per event (a long stream is folded event by event: temporal queries, history, rebuilds; bench B5)."""
    values = _values(state or Account())
    for event in events:
        if isinstance(event, AccountOpened):
            values = _values(evolve(Account(version=values["version"]), event))
        else:
            values["version"] += 1
            values.update(_changes(values["balance"], event))
    return Account(**values)


def _values(state: Account) -> dict[str, Any]:
    return {name: getattr(state, name) for name in _FIELDS}


_FIELDS = tuple(field.name for field in fields(Account))


# --- decisions -----------------------------------------------------------------------------------------


def decide(command: AccountCommand, state: Account) -> list[AccountEvent]:
    match command:
        case OpenAccount() if state.status != "new":
            return []  # a retried open is a no-op
        case OpenAccount():
            return [_open(command)]
        case _ if state.status == "new":
            raise AccountNotFound(f"account {command.account_id} does not exist", account_id=command.account_id)
        case EraseHolderDetails() if (state.holder_name, state.email) == (ERASED, ERASED):
            return []  # erased already
        case EraseHolderDetails():  # closed accounts too: erasure is owed whatever the account's status
            return [HolderDetailsErased(account_id=command.account_id, erased_at=command.now)]
        case Close() if state.status == "closed":
            return []
        case _ if state.status == "closed":
            raise AccountClosedError("the account is closed and accepts no more commands")
        case Deposit():
            money.check_amount(command.amount)
            reference = _text("reference", command.reference, required=False)
            deposited = FundsDeposited(
                account_id=command.account_id,
                amount=command.amount,
                currency=state.currency,
                reference=reference,
                deposited_at=command.now,
            )
            return [deposited]
        case Withdraw():
            _check_debit(state, command.amount, "withdraw")
            reference = _text("reference", command.reference, required=False)
            withdrawn = FundsWithdrawn(
                account_id=command.account_id,
                amount=command.amount,
                currency=state.currency,
                reference=reference,
                withdrawn_at=command.now,
            )
            return [withdrawn]
        case Freeze() if state.status == "frozen":
            return []
        case Freeze():
            reason = _text("reason", command.reason)
            return [AccountFrozen(account_id=command.account_id, reason=reason, frozen_at=command.now)]
        case Unfreeze() if state.status == "open":
            return []
        case Unfreeze():
            return [AccountUnfrozen(account_id=command.account_id, unfrozen_at=command.now)]
        case Close() if state.balance != 0:
            balance = money.format_amount(state.balance, state.currency)
            raise BalanceNotZero(f"only an account with a zero balance can be closed (balance {balance})")
        case Close():
            return [AccountClosed(account_id=command.account_id, closed_at=command.now)]
        case ChangeHolderDetails():
            return _change_holder(command, state)
        case _:
            assert_never(command)


def decide_transfer(command: Transfer, source: Account, target: Account) -> tuple[TransferSent, TransferReceived]:
    """Both sides of a transfer, or a DomainError naming the side that refuses it."""
    if command.from_account == command.to_account:
        raise SameAccount("a transfer needs two different accounts")
    if source.status == "new":
        raise AccountNotFound(f"account {command.from_account} does not exist", account_id=command.from_account)
    if target.status == "new":
        raise AccountNotFound(
            f"the receiving account {command.to_account} does not exist", account_id=command.to_account
        )
    if source.status == "closed":
        raise AccountClosedError("the sending account is closed")
    if target.status == "closed":
        raise AccountClosedError("the receiving account is closed")
    if source.currency != target.currency:
        raise CurrencyMismatch(f"cannot transfer {source.currency} to a {target.currency} account")
    _check_debit(source, command.amount, "transfer")
    reference = _text("reference", command.reference, required=False)
    sent = TransferSent(
        account_id=command.from_account,
        transfer_id=command.transfer_id,
        to_account=command.to_account,
        amount=command.amount,
        currency=source.currency,
        reference=reference,
        sent_at=command.now,
    )
    received = TransferReceived(
        account_id=command.to_account,
        transfer_id=command.transfer_id,
        from_account=command.from_account,
        amount=command.amount,
        currency=source.currency,
        reference=reference,
        received_at=command.now,
    )
    return sent, received


def _open(command: OpenAccount) -> AccountOpened:
    money.decimals(command.currency)
    money.check_amount(command.overdraft_limit, allow_zero=True)
    return AccountOpened(
        account_id=command.account_id,
        holder_name=_text("holder_name", command.holder_name),
        email=_email(command.email),
        currency=command.currency,
        overdraft_limit=command.overdraft_limit,
        owner=command.owner,
        opened_at=command.now,
    )


def _check_debit(state: Account, amount: int, verb: str) -> None:
    money.check_amount(amount)
    if state.status == "frozen":
        raise AccountFrozenError(f"the account is frozen: it accepts deposits but cannot {verb}")
    if state.balance - amount < -state.overdraft_limit:
        available = money.format_amount(state.balance + state.overdraft_limit, state.currency)
        raise InsufficientFunds(f"insufficient funds: {available} {state.currency} available")


def _change_holder(command: ChangeHolderDetails, state: Account) -> list[AccountEvent]:
    name = state.holder_name if command.holder_name is None else _text("holder_name", command.holder_name)
    email = state.email if command.email is None else _email(command.email)
    if (name, email) == (state.holder_name, state.email):
        return []
    changed = HolderDetailsChanged(account_id=command.account_id, holder_name=name, email=email, changed_at=command.now)
    return [changed]


def _text(field: str, value: str, *, required: bool = True) -> str:
    """1-200 characters without control characters (empty allowed when not required)."""
    error = InvalidHolder if field == "holder_name" else InvalidText
    if required and not value.strip():
        raise error(f"{field} must not be empty")
    if len(value) > MAX_TEXT:
        raise error(f"{field} must be at most {MAX_TEXT} characters")
    if _CONTROL.search(value):
        raise error(f"{field} must not contain control characters")
    return value


def _email(value: str) -> str:
    if len(value) > MAX_TEXT or not _EMAIL.fullmatch(value):
        raise InvalidHolder("email is not a valid email address")  # not echoed: error bodies are stored
    return value
