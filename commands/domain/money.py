"""Money: an integer number of minor units of an ISO 4217 currency. Decimal strings only at the edges.

`parse_decimal("12.34", "EUR") == 1234` and `format_amount(1234, "EUR") == "12.34"`. Floats never touch money.
"""

from __future__ import annotations

import re

from commands.domain.errors import InvalidAmount, InvalidCurrency

# The currencies Ledger accepts, with the number of decimals of their minor unit (ISO 4217).
CURRENCIES: dict[str, int] = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "CAD": 2,
    "AUD": 2,
    "JPY": 0,
    "KRW": 0,
    "BHD": 3,
    "KWD": 3,
}
DEFAULT_CURRENCY = "EUR"
MAX_MINOR_UNITS = 10**12
_DECIMAL = re.compile(r"(?P<whole>[0-9]{1,16})(?:\.(?P<fraction>[0-9]{1,16}))?")


def decimals(currency: str) -> int:
    """Raises InvalidCurrency for a code Ledger does not accept."""
    try:
        return CURRENCIES[currency]
    except KeyError:
        raise InvalidCurrency(f"{currency!r} is not a supported currency") from None


def parse_decimal(text: str, currency: str, *, allow_zero: bool = False) -> int:
    """A decimal string ("12.34") as minor units of `currency`.

    Raises InvalidAmount unless it is a plain non-negative decimal with at most the currency's decimals and
    at most MAX_MINOR_UNITS; zero only with `allow_zero` (an overdraft limit may be zero, an amount not).
    """
    places = decimals(currency)
    match = _DECIMAL.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidAmount(f"{text!r} is not a decimal amount like 12.34")
    fraction = match["fraction"] or ""
    if len(fraction) > places:
        raise InvalidAmount(f"{currency} amounts have at most {places} decimals")
    minor: int = int(match["whole"]) * 10**places + int(fraction.ljust(places, "0") or "0")
    check_amount(minor, allow_zero=allow_zero)
    return minor


def check_amount(minor: int, *, allow_zero: bool = False) -> None:
    """Raises InvalidAmount unless 0 < minor <= MAX_MINOR_UNITS (or 0 <= minor with `allow_zero`)."""
    if minor < 0 or (minor == 0 and not allow_zero):
        raise InvalidAmount("the amount must be greater than zero")
    if minor > MAX_MINOR_UNITS:
        raise InvalidAmount(f"the amount must be at most {MAX_MINOR_UNITS} minor units")


def format_amount(minor: int, currency: str) -> str:
    """Minor units as a decimal string with the currency's decimals; negative amounts keep their sign."""
    places = decimals(currency)
    sign, minor = ("-", -minor) if minor < 0 else ("", minor)
    if places == 0:
        return f"{sign}{minor}"
    whole, fraction = divmod(minor, 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}"
