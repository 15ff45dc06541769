"""Saved chain heads (verify_eventstore --write-heads / --against) catch what a consistent rewrite hides: a
stream whose events were rewritten with a freshly recomputed hash chain, one truncated, one deleted."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection

from eventstore import store
from eventstore.hashchain import chain_hash, event_body
from tests.cli import run
from tests.eventstore.toy import ToyCredited

pytestmark = pytest.mark.django_db  # the tampering is rolled back with the test's transaction


def verify(*args: str) -> tuple[int, str]:
    code, out, _ = run("verify_eventstore", *args)
    return code, out


def rewrite_with_a_valid_chain(stream_id: str, version: int, amount: int) -> None:
    """What an owner of the database could do: change an event and recompute every hash after it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT version, type, schema_version, data, metadata, recorded_at FROM events WHERE stream_id = %s"
            " ORDER BY version",
            [stream_id],
        )
        rows = cursor.fetchall()
        previous = ""
        for v, type_, schema, data, metadata, recorded_at in rows:
            data = json.loads(data) if isinstance(data, str) else data
            metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
            if v == version:
                data = {**data, "amount": amount}
            body = event_body(stream_id=stream_id, version=v, type=type_, schema_version=schema, data=data,
                              metadata=metadata)  # fmt: skip
            previous = chain_hash(previous, body, recorded_at)
            cursor.execute(
                "UPDATE events SET data = %s::jsonb, hash = %s WHERE stream_id = %s AND version = %s",
                [json.dumps(data), previous, stream_id, v],
            )


def test_saved_heads_name_every_rewritten_truncated_and_deleted_stream(stream_id, tmp_path):
    grown, rewritten, truncated, deleted = (f"{stream_id}-{n}" for n in ("grown", "rewritten", "truncated", "gone"))
    for name in (grown, rewritten, truncated, deleted):
        store.append(name, [ToyCredited(amount=1), ToyCredited(amount=2)], expected_version=0)
    heads_file = tmp_path / "heads.json"
    code, saved = verify("--write-heads", str(heads_file))
    assert code == 0 and "digest" in saved

    store.append(grown, [ToyCredited(amount=3)], expected_version=2)  # growing is what streams do
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE events DISABLE TRIGGER USER")  # an owner, bypassing the triggers
        cursor.execute("DELETE FROM events WHERE stream_id = %s AND version = 2", [truncated])
        cursor.execute("DELETE FROM events WHERE stream_id = %s", [deleted])
    rewrite_with_a_valid_chain(rewritten, 1, 1_000_000)

    plain_code, plain = verify()
    code, out = verify("--against", str(heads_file))

    assert plain_code == 0  # each remaining chain is consistent: only the saved heads can tell
    assert code == 1
    assert f"PROBLEM {rewritten} version 2" in out and "rewritten" in out
    assert f"PROBLEM {truncated} version 2" in out and "truncated: saved at version 2, now 1" in out
    assert f"PROBLEM {deleted} version 2" in out and "deleted" in out
    assert grown not in out


def test_an_altered_heads_file_is_refused(stream_id, tmp_path):
    store.append(stream_id, [ToyCredited(amount=1)], expected_version=0)
    heads_file = tmp_path / "heads.json"
    verify("--write-heads", str(heads_file))
    body = json.loads(heads_file.read_text())
    body["streams"][stream_id]["version"] = 0
    heads_file.write_text(json.dumps(body))

    with pytest.raises(Exception, match="does not match its own digest"):
        call_command("verify_eventstore", "--against", str(heads_file), stdout=io.StringIO())
