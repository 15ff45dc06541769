from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commands.domain.errors import InvalidAmount, InvalidCurrency
from commands.domain.money import MAX_MINOR_UNITS, format_amount, parse_decimal


@pytest.mark.parametrize(
    "text, currency, minor",
    [
        ("12.34", "EUR", 1234),
        ("12.3", "EUR", 1230),
        ("12", "EUR", 1200),
        ("0.01", "EUR", 1),
        ("500", "JPY", 500),
        ("1.234", "BHD", 1234),
        ("10000000000.00", "EUR", MAX_MINOR_UNITS),
    ],
)
def test_decimal_strings_become_minor_units(text, currency, minor):
    assert parse_decimal(text, currency) == minor


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12.345",
        "-1.00",
        "+1",
        "1e3",
        "NaN",
        "Infinity",
        "1,00",
        " 1",
        "0",
        "0.00",
        "10000000000.01",
        "１２",
    ],
)
def test_malformed_or_out_of_range_amounts_are_refused(text):
    with pytest.raises(InvalidAmount):
        parse_decimal(text, "EUR")


def test_a_zero_overdraft_is_allowed_where_asked_for():
    assert parse_decimal("0.00", "EUR", allow_zero=True) == 0


def test_an_unknown_currency_is_refused():
    with pytest.raises(InvalidCurrency):
        parse_decimal("1.00", "ABC")


@given(minor=st.integers(-MAX_MINOR_UNITS, MAX_MINOR_UNITS), currency=st.sampled_from(["EUR", "JPY", "BHD"]))
def test_formatting_and_parsing_round_trip(minor, currency):
    text = format_amount(minor, currency)
    if minor > 0:
        assert parse_decimal(text, currency) == minor
    assert text.startswith("-") == (minor < 0)
