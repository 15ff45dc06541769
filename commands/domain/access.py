"""Who may read or command which account: the access rules, pure (the gateway maps Django users to an Actor).

- customer: opens accounts for themself; deposits, withdraws, transfers out of and reads their own accounts
- teller: every command on every account; reads everything
- auditor: reads everything, commands nothing
- operator: operates the read side; reads no account
A superuser may do everything. Another customer's account is reported as not found (never "forbidden"), so
account ids cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from commands.domain.accounts import Account
from commands.domain.errors import AccountNotFound

CUSTOMER_COMMANDS = frozenset({"OpenAccount", "Deposit", "Withdraw", "Transfer"})
_VERBS = {
    "OpenAccount": "open accounts",
    "Deposit": "deposit",
    "Withdraw": "withdraw",
    "Transfer": "make transfers",
    "Freeze": "freeze accounts",
    "Unfreeze": "unfreeze accounts",
    "Close": "close accounts",
    "ChangeHolderDetails": "change holder details",
}


class Forbidden(Exception):
    """The actor's role does not allow this at all (the API answers 403, a page shows its 403)."""

    code = "forbidden"


@dataclass(frozen=True, slots=True)
class Actor:
    """Someone acting: a username and the roles they hold (teller, auditor, operator, customer)."""

    username: str
    roles: frozenset[str]
    is_superuser: bool = False

    @property
    def sees_everything(self) -> bool:
        return self.is_superuser or bool(self.roles & {"teller", "auditor"})

    @property
    def may_command(self) -> bool:
        """Some command on some account (their own, for a customer)."""
        return self.is_superuser or bool(self.roles & {"teller", "customer"})

    @property
    def may_manage(self) -> bool:
        """Every command on every account (freeze, close, holder details included)."""
        return self.is_superuser or "teller" in self.roles

    @property
    def may_operate(self) -> bool:
        return self.is_superuser or "operator" in self.roles

    @property
    def reads_accounts(self) -> bool:
        return self.sees_everything or "customer" in self.roles

    @property
    def label(self) -> str:
        return "superuser" if self.is_superuser else ", ".join(sorted(self.roles))

    @property
    def is_customer_only(self) -> bool:
        return not self.sees_everything and "customer" in self.roles


def may_issue(actor: Actor, command_name: str) -> bool:
    """Whether the actor's role may issue this kind of command on some account."""
    return actor.may_manage or ("customer" in actor.roles and command_name in CUSTOMER_COMMANDS)


def require_command(actor: Actor, command_name: str) -> None:
    """Raises Forbidden unless the actor's role may issue this kind of command on some account."""
    if not may_issue(actor, command_name):
        raise Forbidden(f"your role may not {_VERBS.get(command_name, 'do this')}")


def require_reader(actor: Actor) -> None:
    """Raises Forbidden unless the actor's role reads accounts at all (an operator's does not)."""
    if not actor.reads_accounts:
        raise Forbidden("your role reads no accounts")


def may_see(actor: Actor, owner: str) -> bool:
    """Whether the actor may see an account that exists and belongs to `owner`."""
    return actor.sees_everything or owner == actor.username


def require_access(actor: Actor, account_id: UUID, state: Account) -> None:
    """Raises AccountNotFound when the account does not exist or, for a customer, is not theirs."""
    if state.status == "new" or not may_see(actor, state.owner):
        raise AccountNotFound(f"account {account_id} does not exist", account_id=account_id)
