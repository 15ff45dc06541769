"""Guarantees that need several connections: optimistic concurrency and the no-skip reader contract."""

from __future__ import annotations

import functools
import random
import threading

import pytest
from django.db import connection

from eventstore import store
from eventstore.records import ConcurrencyError
from tests.eventstore.sessions import Session
from tests.eventstore.toy import ToyCredited

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_eight_writers_at_the_same_version_exactly_one_wins_each_round(stream_id):
    rounds, writers = 12, 8
    for version in range(rounds):
        barrier = threading.Barrier(writers)
        outcomes: list[str] = []

        def write(n: int, expected: int = version, barrier=barrier, outcomes=outcomes) -> None:
            barrier.wait()
            try:
                store.append(stream_id, [ToyCredited(amount=n)], expected_version=expected)
                outcomes.append("won")
            except ConcurrencyError as exc:
                assert (exc.expected, exc.actual) == (expected, expected + 1)
                outcomes.append("conflict")
            finally:
                connection.close()

        threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

        assert sorted(outcomes) == ["conflict"] * (writers - 1) + ["won"]

    assert [r.version for r in store.load(stream_id).events] == list(range(1, rounds + 1))


def drain(checkpoint):
    """Read everything a reader can see after `checkpoint`; return the events and the new checkpoint."""
    seen = []
    while batch := store.read_all(after=checkpoint, limit=3):
        seen.extend(batch)
        checkpoint = batch[-1].position
    return seen, checkpoint


def test_a_reader_never_skips_a_late_commit(stream_id):
    a, b = Session(), Session()
    try:
        checkpoint = store.head_position()
        a.begin()
        late = a.run(lambda: store.append(stream_id + "-a", [ToyCredited(amount=1)], expected_version=0))
        b.run(lambda: store.append(stream_id + "-b", [ToyCredited(amount=2)], expected_version=0))

        before, checkpoint = drain(checkpoint)
        a.commit()
        after, checkpoint = drain(checkpoint)
    finally:
        a.close()
        b.close()

    # B committed first but A's write came first: the reader waits for A rather than passing it.
    assert before == []
    assert [r.position for r in after] == sorted(r.position for r in after)
    assert after[0].position == late.position
    assert [r.stream_id for r in after] == [stream_id + "-a", stream_id + "-b"]


def test_a_position_only_reader_would_have_skipped_that_late_commit(stream_id):
    """The control: the scenario above really does break a naive `position > checkpoint` reader."""
    a, b = Session(), Session()
    try:
        start = store.head_position()
        a.begin()
        late = a.run(lambda: store.append(stream_id + "-a", [ToyCredited(amount=1)], expected_version=0))
        b.run(lambda: store.append(stream_id + "-b", [ToyCredited(amount=2)], expected_version=0))
        with connection.cursor() as cursor:
            cursor.execute("SELECT max(position) FROM events WHERE position > %s", [start])
            naive_checkpoint = cursor.fetchone()[0]
        a.commit()
    finally:
        a.close()
        b.close()

    assert naive_checkpoint > late.position  # a naive reader has moved past A's event before it committed


def test_random_interleavings_never_skip_or_repeat_an_event(stream_id):
    rng = random.Random(20261125)
    writers = [Session(), Session(), Session()]
    checkpoint = store.head_position()
    read: list = []
    committed: list[int] = []
    try:
        for round_no in range(200):
            steps = []
            for n, writer in enumerate(writers):
                steps += [
                    (writer, "begin", n),
                    (writer, "append", n),
                    (writer, rng.choice(["commit"] * 4 + ["rollback"]), n),
                ]
            # A random interleaving that keeps each writer's own steps in order, with reads sprinkled in.
            queue = {n: [s for s in steps if s[2] == n] for n in range(len(writers))}
            pending: dict[int, list[int]] = {}
            while any(queue.values()):
                n = rng.choice([k for k, v in queue.items() if v])
                writer, action, _ = queue[n].pop(0)
                if action == "begin":
                    writer.begin()
                elif action == "append":
                    stream = f"{stream_id}-{round_no}-{n}"
                    events = [ToyCredited(amount=1)] * rng.randint(1, 3)
                    writer.run(functools.partial(store.append, stream, events, expected_version=0))
                    pending[n] = [r.position for r in writer.run(functools.partial(store.load, stream)).events]
                elif action == "commit":
                    writer.commit()
                    committed.extend(pending.pop(n))
                else:
                    writer.rollback()
                    pending.pop(n)
                if rng.random() < 0.5:
                    seen, checkpoint = drain(checkpoint)
                    read.extend(seen)
            seen, checkpoint = drain(checkpoint)
            read.extend(seen)
            positions = [r.position for r in read]
            assert sorted(positions) == sorted(committed), f"round {round_no}: skipped or repeated an event"
    finally:
        for writer in writers:
            writer.close()

    assert len(set(positions)) == len(positions)
    assert [r.position for r in read] == sorted(r.position for r in read)


def test_a_transaction_reads_its_own_events_only_when_nothing_older_runs(stream_id):
    """So a test (or a job) that appends and projects in one transaction sees its events, safely."""
    older, mine = Session(), Session()
    try:
        checkpoint = store.head_position()
        mine.begin()
        mine.run(lambda: store.append(stream_id + "-mine", [ToyCredited(amount=1)], expected_version=0))
        alone = mine.run(lambda: [r.stream_id for r in store.read_all(after=checkpoint)])
        mine.rollback()

        older.begin()
        older.run(lambda: store.append(stream_id + "-older", [ToyCredited(amount=1)], expected_version=0))
        mine.begin()
        mine.run(lambda: store.append(stream_id + "-mine2", [ToyCredited(amount=1)], expected_version=0))
        behind_older = mine.run(lambda: [r.stream_id for r in store.read_all(after=checkpoint)])
        mine.rollback()
        older.rollback()
    finally:
        older.close()
        mine.close()

    assert alone == [stream_id + "-mine"]
    assert behind_older == []  # an older transaction may still commit before these: wait for it
