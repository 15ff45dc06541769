from __future__ import annotations

import pytest
from django.db import connection

from eventstore import store
from eventstore.records import ConcurrencyError, Metadata, StreamAppend
from tests.eventstore.toy import ToyCredited, ToyDebited

pytestmark = pytest.mark.django_db


def count(stream_id: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events WHERE stream_id = %s", [stream_id])
        return cursor.fetchone()[0]


def test_append_to_a_new_stream_numbers_versions_from_one(stream_id):
    result = store.append(stream_id, [ToyCredited(amount=5), ToyDebited(amount=2)], expected_version=0)

    history = store.load(stream_id)
    assert result.version == 2
    assert [r.version for r in history.events] == [1, 2]
    assert [r.event for r in history.events] == [ToyCredited(amount=5), ToyDebited(amount=2)]
    assert history.events[-1].position == result.position


def test_positions_are_unique_and_increase_within_an_append(stream_id):
    store.append(stream_id, [ToyCredited(amount=n) for n in range(1, 6)], expected_version=0)

    positions = [r.position for r in store.load(stream_id).events]
    assert positions == sorted(set(positions))


def test_append_at_a_stale_version_raises_and_stores_nothing(stream_id):
    store.append(stream_id, [ToyCredited(amount=5)], expected_version=0)

    with pytest.raises(ConcurrencyError) as caught:
        store.append(stream_id, [ToyCredited(amount=1)], expected_version=0)

    assert (caught.value.expected, caught.value.actual) == (0, 1)
    assert count(stream_id) == 1


def test_append_ahead_of_the_stream_raises(stream_id):
    with pytest.raises(ConcurrencyError) as caught:
        store.append(stream_id, [ToyCredited(amount=1)], expected_version=3)

    assert (caught.value.expected, caught.value.actual) == (3, 0)
    assert count(stream_id) == 0


def test_multi_stream_append_with_one_wrong_version_stores_nothing_in_either(stream_id):
    other = stream_id + "-other"
    store.append(other, [ToyCredited(amount=10)], expected_version=0)

    with pytest.raises(ConcurrencyError) as caught:
        store.append_streams(
            [
                StreamAppend(stream_id, [ToyDebited(amount=3)], expected_version=0),
                StreamAppend(other, [ToyCredited(amount=3)], expected_version=0),
            ]
        )

    assert caught.value.stream_id == other
    assert count(stream_id) == 0
    assert count(other) == 1


def test_multi_stream_append_writes_both_streams_in_one_transaction(stream_id):
    other = stream_id + "-other"

    result = store.append_streams(
        [
            StreamAppend(stream_id, [ToyDebited(amount=3)], expected_version=0),
            StreamAppend(other, [ToyCredited(amount=3)], expected_version=0),
        ]
    )

    assert result.versions == {stream_id: 1, other: 1}
    first, second = store.load(stream_id).events[0], store.load(other).events[0]
    assert first.position >> 20 == second.position >> 20  # one transaction: positions share its id
    assert result.position == max(first.position, second.position)


def test_metadata_and_database_clock_are_stored(stream_id):
    meta = Metadata(correlation_id="c-1", causation_id="c-0", user="teller", command="Deposit", request_id="r-9")

    result = store.append(stream_id, [ToyCredited(amount=1)], expected_version=0, metadata=meta)

    recorded = store.load(stream_id).events[0]
    assert recorded.metadata == meta.as_dict()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement_timestamp()")
        db_now = cursor.fetchone()[0]
    assert recorded.recorded_at == result.recorded_at
    assert recorded.recorded_at <= db_now


def test_an_empty_append_is_refused(stream_id):
    with pytest.raises(ValueError, match="at least one event"):
        store.append(stream_id, [], expected_version=0)


def test_a_stream_may_appear_once_per_append(stream_id):
    with pytest.raises(ValueError, match="only once"):
        store.append_streams(
            [
                StreamAppend(stream_id, [ToyCredited(amount=1)], 0),
                StreamAppend(stream_id, [ToyCredited(amount=1)], 1),
            ]
        )


def test_a_conflict_inside_an_outer_transaction_leaves_it_usable(stream_id):
    from django.db import transaction

    store.append(stream_id, [ToyCredited(amount=1)], expected_version=0)
    with transaction.atomic():
        with pytest.raises(ConcurrencyError):
            store.append(stream_id, [ToyCredited(amount=1)], expected_version=0)
        store.append(stream_id, [ToyCredited(amount=2)], expected_version=1)

    assert store.load(stream_id).version == 2
