"""export_events and import_events: a round trip into a new database keeps every event as it was (the same
verify_eventstore fingerprint), rebuilt read models equal the source's, and new appends come after every
imported position. A store that is not empty, or a file whose hash chain is broken, is refused."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from projections.jobs import catch_up_everything
from tests.api_client import deposit, open_account
from tests.projections.workers import ROOT

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
READ_MODELS = {
    "account_summaries": "account_id",
    "account_search": "account_id",
    "ledger_entries": "account_id, version",
    "ledger_heads": "account_id",
    "daily_totals": "day, currency",
}
IGNORED = {"id", "last_position", "document"}  # surrogate keys, watermarks, and the tsvector built from the text


@pytest.fixture
def new_database(empty_database):
    """An empty database on the same server, migrated."""
    manage(empty_database, "migrate", "-v", "0")
    return empty_database


def manage(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": settings.REDIS_URL}
    env["DJANGO_SETTINGS_MODULE"] = "tests.worker_settings"  # the toy event types other tests left in the log
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def rows(cursor, table: str) -> list[tuple]:
    cursor.execute(f"SELECT * FROM {table} LIMIT 0")
    columns = [c.name for c in cursor.description if c.name not in IGNORED]
    cursor.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {READ_MODELS[table]}")
    return [tuple(str(value) for value in row) for row in cursor.fetchall()]


def exported(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    call_command("export_events", "--output", str(path), "--keys", str(tmp_path / "keys.jsonl"), stderr=io.StringIO())
    return path


@pytest.mark.django_db(transaction=True)  # committed: an open transaction would hold the cluster's horizon back
def test_a_round_trip_keeps_every_event_and_rebuilds_the_same_read_models(teller, tmp_path, new_database):
    first, second = open_account(teller, holder_name="Round Trip"), open_account(teller, holder_name="Trip Round")
    deposit(teller, first, "12.34")
    teller.post("/api/transfers", {"from_account": first, "to_account": second, "amount": "2.00"})
    catch_up_everything()
    path = exported(tmp_path)
    out = io.StringIO()
    call_command("verify_eventstore", "--json", stdout=out)
    source = json.loads(out.getvalue())

    imported = manage(new_database, "import_events", str(path), "--keys", str(tmp_path / "keys.jsonl"))
    rebuilt = manage(new_database, "rebuild_projections", "--all")
    verified = manage(new_database, "verify_eventstore", "--json")

    assert imported.returncode == 0, imported.stderr
    assert f"imported {source['events']:,} events" in imported.stdout
    assert rebuilt.returncode == 0, rebuilt.stderr
    target = json.loads(verified.stdout)
    assert (target["fingerprint"], target["events"], target["problems"]) == (
        source["fingerprint"],
        source["events"],
        [],
    )
    lines = path.read_text().splitlines()
    with psycopg.connect(new_database) as conn, conn.cursor() as cursor, connection.cursor() as mine:
        cursor.execute("SELECT position, stream_id, version, hash FROM events ORDER BY position")
        assert cursor.fetchall() == [
            (e["position"], e["stream_id"], e["version"], e["hash"]) for e in map(json.loads, lines)
        ]
        for table in READ_MODELS:
            assert rows(cursor, table) == rows(mine, table), table
        cursor.execute("SELECT events_xid() * 1048576 > (SELECT max(position) FROM events)")
        assert cursor.fetchone() == (True,)  # this database's own appends come after every imported event


def test_an_import_into_a_store_that_is_not_empty_is_refused(teller, tmp_path):
    open_account(teller)
    path = exported(tmp_path)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events")
        before = cursor.fetchone()[0]

    with pytest.raises(Exception, match="the event store is not empty"):
        call_command("import_events", str(path), stdout=io.StringIO(), stderr=io.StringIO())

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events")
        assert cursor.fetchone()[0] == before


def test_a_broken_chain_is_refused_naming_the_line_and_nothing_is_imported(teller, tmp_path, new_database):
    account = open_account(teller)
    deposit(teller, account, "5.00")
    path = exported(tmp_path)
    lines = path.read_text().splitlines()
    number, event = next(
        (n, json.loads(line)) for n, line in enumerate(lines, 1) if json.loads(line)["type"] == "FundsDeposited"
    )
    event["data"]["amount"] = 500_00  # a changed amount
    lines[number - 1] = json.dumps(event)
    path.write_text("\n".join(lines) + "\n")

    refused = manage(new_database, "import_events", str(path))

    assert refused.returncode == 1
    assert f"line {number}: hash mismatch at account-{account} version 2" in refused.stderr
    assert "nothing was imported" in refused.stderr
    with psycopg.connect(new_database) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (0,)


@pytest.mark.django_db(transaction=True)
def test_a_log_from_a_server_whose_transaction_ids_are_far_ahead_still_comes_before_new_appends(
    teller, tmp_path, new_database
):
    open_account(teller, holder_name="Far Ahead")
    path = exported(tmp_path)
    ahead = [json.loads(line) for line in path.read_text().splitlines()]
    for event in ahead:  # as if written on a server a million transactions further on (positions are not hashed)
        event["position"] += 1_000_000 << 20
    path.write_text("".join(json.dumps(event) + "\n" for event in ahead))

    imported = manage(new_database, "import_events", str(path))
    rebuilt = manage(new_database, "rebuild_projections", "account_summaries")

    assert imported.returncode == 0, imported.stderr
    assert f"rebuilt from {len(ahead):,} events" in rebuilt.stdout  # every imported event is below the horizon
    with psycopg.connect(new_database) as conn:
        found = conn.execute(
            "SELECT xid_offset > 0, events_xid() * 1048576 > (SELECT max(position) FROM events) FROM events_clock"
        ).fetchone()
    assert found == (True, True)  # an offset was set, and new positions come after every imported one


@pytest.mark.django_db(transaction=True)
def test_an_import_without_the_keys_reads_every_holder_as_erased_and_still_verifies(teller, tmp_path, new_database):
    open_account(teller, holder_name="Keyless Import", email="keyless@example.com")
    path = exported(tmp_path)
    assert "Keyless Import" not in path.read_text()  # the export holds sealed values only

    assert manage(new_database, "import_events", str(path)).returncode == 0
    assert manage(new_database, "rebuild_projections", "--all").returncode == 0
    assert json.loads(manage(new_database, "verify_eventstore", "--json").stdout)["problems"] == []
    with psycopg.connect(new_database) as conn:
        holders = {row[0] for row in conn.execute("SELECT holder_name FROM account_summaries")}
    assert holders == {"erased"}
