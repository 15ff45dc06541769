"""The store's array literals read back in PostgreSQL exactly as the values they were built from."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from hypothesis import example, given, settings
from hypothesis import strategies as st

from eventstore.pgarray import any_array, bytea_array, int_array, text_array

pytestmark = pytest.mark.django_db

# PostgreSQL text cannot hold NUL; everything else (quotes, backslashes, braces, commas, spaces) must survive.
TEXT = st.text(alphabet=st.sampled_from('"\\{},; \n') | st.characters(codec="utf-8", exclude_characters="\x00"))


def _read(sql: str, literal: str) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, [literal])
        return cursor.fetchone()[0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.none() | TEXT, max_size=6))
@example(["a\\b", 'say "hi"', "{a,b}", "NULL", "", " padded ", "\\"])
def test_text_arrays_round_trip(values: list[str | None]) -> None:
    assert _read("SELECT %s::text[]", text_array(values)) == values


def test_jsonb_arrays_round_trip_documents_with_quotes_and_backslashes() -> None:
    documents = [json.dumps({"reference": 'say "hi" \\ {a,b}', "amount": 100}), None, "{}"]
    assert _read("SELECT %s::jsonb[]::text[]", text_array(documents)) == [
        '{"amount": 100, "reference": "say \\"hi\\" \\\\ {a,b}"}',
        None,
        "{}",
    ]


@given(st.lists(st.none() | st.integers(min_value=-(2**31), max_value=2**31 - 1), max_size=6))
@settings(max_examples=30, deadline=None)
def test_int_arrays_round_trip(values: list[int | None]) -> None:
    assert _read("SELECT %s::integer[]", int_array(values)) == values


@given(st.lists(st.binary(max_size=40), max_size=5))
@settings(max_examples=30, deadline=None)
def test_bytea_arrays_round_trip(values: list[bytes]) -> None:
    assert [bytes(value) for value in _read("SELECT %s::bytea[]", bytea_array(values))] == values


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.none() | st.uuids(), max_size=5),
    st.lists(st.none() | st.datetimes(timezones=st.timezones(), min_value=datetime(1900, 1, 1)), max_size=5),
    st.lists(st.none() | st.dates(min_value=date(1, 1, 1)), max_size=5),
    st.lists(st.none() | st.booleans(), max_size=5),
    st.lists(st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=5),
    st.lists(st.none() | TEXT, max_size=5),
)
@example([], [datetime(2002, 3, 30, 22, tzinfo=ZoneInfo("America/Nuuk"))], [], [], [], [])
def test_any_arrays_round_trip_each_element_type(uuids, moments, days, flags, numbers, texts) -> None:
    assert _read("SELECT %s::uuid[]", any_array(uuids)) == uuids
    # The same instants (compared in UTC: a local time in a DST gap compares unequal across zones).
    assert _read("SELECT %s::timestamptz[]", any_array(moments)) == [m and m.astimezone(UTC) for m in moments]
    assert _read("SELECT %s::date[]", any_array(days)) == days
    assert _read("SELECT %s::boolean[]", any_array(flags)) == flags
    assert _read("SELECT %s::bigint[]", any_array(numbers)) == numbers
    assert _read("SELECT %s::text[]", any_array(texts)) == texts


def test_any_arrays_write_other_values_by_their_text() -> None:
    assert _read("SELECT %s::numeric[]", any_array([Decimal("1.50"), None])) == [Decimal("1.50"), None]
