"""Events cannot be changed in the database, and tampering that gets past it is found by verify_eventstore."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from eventstore import store
from tests.eventstore.toy import ToyCredited, ToyDebited

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET data = '{\"amount\": 999}' WHERE stream_id = %s",
        "DELETE FROM events WHERE stream_id = %s",
        "TRUNCATE events",
    ],
)
def test_raw_sql_cannot_change_events(stream_id, statement):
    store.append(stream_id, [ToyCredited(amount=5)], expected_version=0)

    with (
        pytest.raises(DatabaseError, match="events are immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [stream_id] if "%s" in statement else [])

    assert store.load(stream_id).events[0].event == ToyCredited(amount=5)


def verify(capsys) -> tuple[object, str]:
    with pytest.raises(SystemExit) as exited:
        call_command("verify_eventstore")
        raise SystemExit(0)
    return exited.value.code, capsys.readouterr().out


def test_verify_eventstore_passes_on_an_untouched_store(stream_id, capsys):
    store.append(stream_id, [ToyCredited(amount=5), ToyDebited(amount=1)], expected_version=0)

    code, out = verify(capsys)

    assert code == 0
    assert "problems: 0" in out


def tamper(sql: str, params: list) -> None:
    """What a superuser could do: switch the triggers off, change a row, switch them back on."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE events DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE events ENABLE TRIGGER USER")


def test_verify_eventstore_names_an_altered_event_and_exits_1(stream_id, capsys):
    store.append(stream_id, [ToyCredited(amount=5), ToyDebited(amount=1), ToyCredited(amount=2)], expected_version=0)
    tamper(
        "UPDATE events SET data = %s WHERE stream_id = %s AND version = 2",
        [json.dumps({"amount": 100}), stream_id],
    )

    code, out = verify(capsys)

    assert code == 1
    assert f"PROBLEM {stream_id} version 2" in out
    assert "hash mismatch" in out
    assert f"{stream_id} version 3" not in out  # only the altered event is named, not its successors


def test_verify_eventstore_finds_a_deleted_event_as_a_version_gap(stream_id, capsys):
    store.append(stream_id, [ToyCredited(amount=5), ToyDebited(amount=1), ToyCredited(amount=2)], expected_version=0)
    tamper("DELETE FROM events WHERE stream_id = %s AND version = 2", [stream_id])

    code, out = verify(capsys)

    assert code == 1
    assert f"PROBLEM {stream_id} version 3" in out
    assert "version gap: expected version 2, found 3" in out


def test_verify_eventstore_reports_an_event_that_no_longer_decodes(stream_id, capsys):
    store.append(stream_id, [ToyCredited(amount=5)], expected_version=0)
    tamper("UPDATE events SET type = 'NoSuchEvent' WHERE stream_id = %s", [stream_id])

    code, out = verify(capsys)

    assert code == 1
    assert "does not decode: no event type is registered as 'NoSuchEvent'" in out


def test_verify_eventstore_json_output(stream_id, capsys):
    store.append(stream_id, [ToyCredited(amount=5)], expected_version=0)

    call_command("verify_eventstore", "--json")
    report = json.loads(capsys.readouterr().out)

    assert report["ok"] is True
    assert report["events"] >= 1
    assert len(report["fingerprint"]) == 64
