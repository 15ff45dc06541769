"""The projectors' bulk statements: rows in, rows out, as a VALUES list would have written them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from django.db import DataError, connection, transaction

from projections import bulk

pytestmark = pytest.mark.django_db

COLUMNS = ("id", "code", "amount", "at", "note")


@pytest.fixture
def cursor():
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE bulk_probe (id uuid PRIMARY KEY, code varchar(3) NOT NULL, amount bigint,"
            " at timestamptz, note text, document tsvector)"
        )
        yield cursor


def test_rows_go_in_once_and_update_only_where_the_guard_holds(cursor):
    first, second = uuid.uuid4(), uuid.uuid4()
    moment = datetime(2026, 12, 1, 12, tzinfo=UTC)
    bulk.insert_new(
        cursor,
        "bulk_probe",
        COLUMNS,
        [(first, "EUR", 100, moment, 'say "hi", {ok}'), (second, "USD", None, None, None)],
    )
    bulk.insert_new(cursor, "bulk_probe", COLUMNS, [(first, "GBP", 1, moment, "ignored: the row exists")])
    bulk.upsert(
        cursor,
        "bulk_probe",
        (*COLUMNS, "document"),
        [(first, "EUR", 50, moment, "lower", "ada lovelace"), (second, "CHF", 200, moment, "higher", "grace")],
        conflict=("id",),
        guard="t.amount IS NULL OR t.amount < EXCLUDED.amount",
        computed={"document": ("text", "to_tsvector('simple', {})")},
    )

    cursor.execute("SELECT id, code, amount, at, note, document::text FROM bulk_probe ORDER BY amount")
    assert cursor.fetchall() == [
        (first, "EUR", 100, moment, 'say "hi", {ok}', None),
        (second, "CHF", 200, moment, "higher", "'grace':1"),
    ]


def test_a_value_too_long_for_its_column_is_refused_not_cut(cursor):
    with pytest.raises(DataError, match="too long"), transaction.atomic():
        bulk.insert_new(cursor, "bulk_probe", COLUMNS, [(uuid.uuid4(), "EURO", 1, None, None)])
