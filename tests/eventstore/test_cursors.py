"""The server-bound cursor of the hot statements: prepared per connection, logged, Django's errors."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from eventstore import store
from eventstore.cursors import prepared
from tests.eventstore.toy import ToyCredited

pytestmark = pytest.mark.django_db


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_stream_load_is_prepared_once_and_then_reused(stream_id):
    store.append(stream_id, [ToyCredited(amount=5)], expected_version=0)

    for _ in range(8):  # psycopg prepares a statement from its fifth run on a connection
        assert store.load(stream_id).version == 1

    loads = [text for text in _prepared_statements() if "FROM events WHERE stream_id = $1" in text]
    assert len(loads) == 1


def test_statements_are_logged_as_written_where_django_logs_queries(stream_id):
    with CaptureQueriesContext(connection) as queries:
        store.load(stream_id)

    assert [query["sql"] for query in queries.captured_queries] == [
        "SELECT position, stream_id, version, type, schema_version, data, metadata, recorded_at, hash"
        " FROM events WHERE stream_id = %s ORDER BY version"
    ]


def test_an_error_comes_out_as_djangos_and_leaves_the_transaction_usable():
    with transaction.atomic():
        with pytest.raises(DatabaseError) as raised, transaction.atomic(), prepared() as cursor:
            cursor.execute("SELECT 1 / %s", [0])
        assert getattr(raised.value.__cause__, "sqlstate", None) == "22012"  # division_by_zero, from psycopg
        with prepared() as cursor:
            cursor.execute("SELECT %s::int + 1", [1])
            assert cursor.fetchone() == (2,)
