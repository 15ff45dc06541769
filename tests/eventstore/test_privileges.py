"""The least-privilege role of docs/least-privilege.sql: it appends and reads, it cannot change events."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from eventstore import store
from tests.eventstore.toy import ToyCredited

pytestmark = pytest.mark.django_db
SQL = Path(__file__).resolve().parents[2] / "docs" / "least-privilege.sql"


@pytest.fixture
def as_app_role():
    """Create the role inside the test's transaction (roles are transactional) and act as it."""
    statements = [line for line in SQL.read_text().splitlines() if line and not line.startswith("--")]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = 'ledger_app'")
        if cursor.fetchone():
            pytest.skip("a ledger_app role already exists on this server")
        for statement in statements:
            cursor.execute(statement)
        cursor.execute("SET ROLE ledger_app")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


def test_the_app_role_appends_and_reads(stream_id, as_app_role):
    store.append(stream_id, [ToyCredited(amount=5)], expected_version=0)
    assert store.load(stream_id).version == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET type = 'x'",
        "DELETE FROM events",
        "TRUNCATE events",
        "ALTER TABLE events DISABLE TRIGGER USER",
    ],
)
def test_the_app_role_cannot_change_events(stream_id, as_app_role, statement):
    store.append(stream_id, [ToyCredited(amount=5)], expected_version=0)
    denied = pytest.raises(DatabaseError, match="permission denied|must be owner")
    with denied, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)


def test_the_app_role_cannot_change_a_snapshot(stream_id, as_app_role):
    denied = pytest.raises(DatabaseError, match="permission denied")
    with denied, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE snapshots SET version = version + 7")
