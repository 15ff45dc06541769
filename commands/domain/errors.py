"""Domain errors: each is a broken business rule with a stable `code` (the API answers 422 with it)."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID


class DomainError(Exception):
    code: ClassVar[str] = "domain_error"


class FieldError(DomainError):
    """Another domain error, about one input field (an amount in the account's currency, say)."""

    def __init__(self, error: DomainError, field: str) -> None:
        super().__init__(str(error))
        self.code = error.code  # type: ignore[misc]
        self.field = field


class InvalidAmount(DomainError):
    code = "invalid_amount"


class InvalidCurrency(DomainError):
    code = "invalid_currency"


class InvalidHolder(DomainError):
    """A holder name or email that breaks the rules (1-200 characters, no control characters, an email)."""

    code = "invalid_holder"


class InvalidText(DomainError):
    """A reason or reference that breaks the rules (at most 200 characters, no control characters)."""

    code = "invalid_text"


class AccountNotFound(DomainError):
    code = "account_not_found"

    def __init__(self, message: str, *, account_id: UUID | None = None) -> None:
        super().__init__(message)
        self.account_id = account_id


class InsufficientFunds(DomainError):
    code = "insufficient_funds"


class AccountFrozenError(DomainError):
    code = "account_frozen"


class AccountClosedError(DomainError):
    code = "account_closed"


class BalanceNotZero(DomainError):
    code = "balance_not_zero"


class SameAccount(DomainError):
    code = "same_account"


class CurrencyMismatch(DomainError):
    code = "currency_mismatch"
