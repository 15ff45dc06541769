"""Loading streams: old payloads upcast, temporal bounds, and snapshots that never change a result."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstore import store
from eventstore.codec import codec
from eventstore.models import Snapshot
from eventstore.records import SnapshotState
from tests.eventstore.raw import insert_raw_events
from tests.eventstore.toy import STATE_SCHEMA, Tally, ToyCredited, ToyDebited, fold

pytestmark = pytest.mark.django_db
FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.json"))


@pytest.mark.parametrize("fixture", FIXTURES, ids=[path.stem for path in FIXTURES])
def test_every_stored_fixture_of_an_old_version_loads_as_the_current_event(stream_id, fixture, capsys):
    old = json.loads(fixture.read_text())
    # Written exactly as an older release would have, payload shape and hash chain included.
    insert_raw_events(stream_id, [(old["type"], old["data"])], schema_version=old["schema_version"])

    recorded = store.load(stream_id).events[0]

    assert recorded.schema_version == old["schema_version"]  # the row itself is never rewritten
    assert recorded.data == old["data"]
    assert recorded.event == codec.decode(old["type"], 2, old["current"])
    call_command("verify_eventstore")
    assert "problems: 0" in capsys.readouterr().out


def test_until_version_folds_a_prefix(stream_id):
    store.append(stream_id, [ToyCredited(amount=5), ToyDebited(amount=2), ToyCredited(amount=10)], expected_version=0)

    history = store.load(stream_id, until_version=2)

    assert history.version == 2
    assert fold([r.event for r in history.events]) == Tally(balance=3, count=2)


def test_until_time_folds_what_was_recorded_by_then(stream_id):
    first = store.append(stream_id, [ToyCredited(amount=5)], expected_version=0)
    store.append(stream_id, [ToyCredited(amount=7)], expected_version=1)

    assert store.load(stream_id, until_time=first.recorded_at).version == 1
    assert store.load(stream_id, until_time=first.recorded_at - timedelta(microseconds=1)).version == 0


def test_recorded_at_reads_back_as_stored_in_utc_on_every_reader(stream_id):
    store.append(stream_id, [ToyCredited(amount=5)], expected_version=0)
    with connection.cursor() as cursor:  # Django's own loader, as the ORM and the admin read it
        cursor.execute("SELECT recorded_at FROM events WHERE stream_id = %s", [stream_id])
        (stored,) = cursor.fetchone()

    readers = {
        "load": store.load(stream_id).events[0],
        "load_range": store.load_range(stream_id, after_version=0, limit=1)[0],
        "read_all": next(r for r in store.read_all(0, 10_000) if r.stream_id == stream_id),
        "find": store.find(stream_id=stream_id)[0],
    }

    for name, recorded in readers.items():
        assert recorded.recorded_at == stored, name
        assert recorded.recorded_at.utcoffset() == timedelta(0) and recorded.recorded_at.tzinfo is UTC, name


def test_a_stream_that_does_not_exist_loads_empty(stream_id):
    history = store.load(stream_id)

    assert (history.version, history.events, history.snapshot) == (0, [], None)


def write(stream_id: str, chunks: list[list[object]]) -> list[object]:
    """Append chunk by chunk, handing the store the state after each (as the services do)."""
    everything: list[object] = []
    for chunk in chunks:
        state = fold(everything + chunk)
        store.append(stream_id, chunk, expected_version=len(everything), snapshot=SnapshotState(state, STATE_SCHEMA))
        everything += chunk
    return everything


def rebuild(stream_id: str, **bounds) -> tuple[Tally, int]:
    history = store.load(stream_id, snapshot_schema=STATE_SCHEMA, **bounds)
    start = Tally(**history.snapshot.state) if history.snapshot else Tally()
    return fold([r.event for r in history.events], start), history.version


def test_snapshots_are_written_every_n_events(stream_id):
    with override_settings(LEDGER_SNAPSHOT_EVERY=3):
        write(stream_id, [[ToyCredited(amount=1)] * 2, [ToyCredited(amount=1)] * 2, [ToyCredited(amount=1)] * 5])

    assert list(Snapshot.objects.filter(stream_id=stream_id).values_list("version", flat=True).order_by("version")) == [
        4,
        9,
    ]
    history = store.load(stream_id, snapshot_schema=STATE_SCHEMA)
    assert history.snapshot is not None
    assert history.snapshot.version == 9
    assert history.events == []


def test_a_snapshot_of_another_state_schema_is_ignored(stream_id):
    write(stream_id, [[ToyCredited(amount=4), ToyCredited(amount=4)]])
    with connection.cursor() as cursor:  # a well-formed snapshot, of a state shape this code no longer uses
        cursor.execute(
            "INSERT INTO snapshots (stream_id, version, state_schema, state, digest, created_at)"
            " SELECT stream_id, version, %s, '{\"balance\": -1}', snapshot_digest(hash, %s, '{\"balance\": -1}'),"
            " now() FROM events WHERE stream_id = %s AND version = 2",
            [STATE_SCHEMA - 1, STATE_SCHEMA - 1, stream_id],
        )

    assert rebuild(stream_id) == (Tally(balance=8, count=2), 2)


toy_event = st.one_of(
    st.builds(ToyCredited, amount=st.integers(1, 500)), st.builds(ToyDebited, amount=st.integers(1, 500))
)
operations = st.lists(st.lists(toy_event, min_size=1, max_size=7), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=operations, every=st.integers(1, 9), data=st.data())
def test_loading_with_snapshots_equals_folding_every_event(stream_id, chunks, every, data):
    until = data.draw(st.integers(0, sum(map(len, chunks))))
    stream = f"{stream_id}-{uuid.uuid4()}"
    with override_settings(LEDGER_SNAPSHOT_EVERY=every):
        everything = write(stream, chunks)

    assert rebuild(stream) == (fold(everything), len(everything))
    assert rebuild(stream, until_version=until) == (fold(everything[:until]), until)
    Snapshot.objects.filter(stream_id=stream).delete()
    assert rebuild(stream) == (fold(everything), len(everything))
