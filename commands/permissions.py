"""Who may do what, from the permissions a user holds (commands.roles gives them to the role groups):

- customer (`command_own_accounts`): opens accounts for themself; deposits, withdraws, transfers out of and
  reads their own accounts
- teller (`command_any_account`, `read_all_accounts`): every command on every account; reads everything
- auditor (`read_all_accounts`): reads everything, commands nothing
- operator (`operate_projections`): operates the read side; reads no account
Superusers may do everything. Another customer's account is reported as not found (never "forbidden"), so
account ids cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from commands.domain.accounts import Account
from commands.domain.errors import AccountNotFound
from commands.roles import MARKS

Role = Literal["customer", "teller", "auditor"]
CUSTOMER_COMMANDS = frozenset({"OpenAccount", "Deposit", "Withdraw", "Transfer"})


class Forbidden(Exception):
    """The actor's role does not allow this at all (the API answers 403)."""

    code = "forbidden"


@dataclass(frozen=True, slots=True)
class Actor:
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
    def label(self) -> str:
        return "superuser" if self.is_superuser else ", ".join(sorted(self.roles))

    @property
    def is_customer_only(self) -> bool:
        return not self.sees_everything and "customer" in self.roles


def require_command(actor: Actor, command_name: str) -> None:
    """Raises Forbidden unless the actor's role may issue this kind of command on some account."""
    if actor.is_superuser or "teller" in actor.roles:
        return
    if "customer" in actor.roles and command_name in CUSTOMER_COMMANDS:
        return
    raise Forbidden(f"your role may not {_verb(command_name)}")


def require_reader(actor: Actor) -> None:
    """Raises Forbidden unless the actor's role reads accounts at all (an operator's does not)."""
    if not (actor.sees_everything or "customer" in actor.roles):
        raise Forbidden("your role reads no accounts")


def may_see(actor: Actor, owner: str) -> bool:
    """Whether the actor may see an account that exists and belongs to `owner`."""
    return actor.sees_everything or owner == actor.username


def require_access(actor: Actor, account_id: UUID, state: Account) -> None:
    """Raises AccountNotFound when the account does not exist or, for a customer, is not theirs."""
    if state.status == "new" or (not actor.sees_everything and state.owner != actor.username):
        raise AccountNotFound(f"account {account_id} does not exist", account_id=account_id)


def _verb(command_name: str) -> str:
    return {
        "OpenAccount": "open accounts",
        "Deposit": "deposit",
        "Withdraw": "withdraw",
        "Transfer": "make transfers",
        "Freeze": "freeze accounts",
        "Unfreeze": "unfreeze accounts",
        "Close": "close accounts",
        "ChangeHolderDetails": "change holder details",
    }.get(command_name, "do this")


def actor_of(request: Any) -> Actor:
    """The Actor behind an authenticated API request."""
    from config.tokens import authenticated_user

    return actor_for(authenticated_user(request))


def actor_for(user: Any) -> Actor:
    """The Actor for an authenticated Django user: they hold a role when they hold all its permissions
    (through the role's group, or given one by one)."""
    granted = user.get_all_permissions()
    roles = frozenset(role for role, mark in MARKS.items() if mark in granted)
    return Actor(username=user.get_username(), roles=roles, is_superuser=bool(user.is_superuser))
