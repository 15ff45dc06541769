"""The global order: every reader sees each stream in version order, and positions only go up in reader order.

Each test drives real transactions on their own connections, in the interleavings that broke the old
(transaction_id, position) order: a transaction that wrote before appending, a lost race retried inside the
same transaction, multi-stream appends and rollbacks.
"""

from __future__ import annotations

import functools
import random
import time
from collections import Counter

import pytest
from django.db import connection

from eventstore import store
from eventstore.records import ConcurrencyError, Recorded, StaleTransaction, StreamAppend
from tests.eventstore.sessions import Session
from tests.eventstore.toy import ToyCredited

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


class Reader:
    """A reader resuming from its last position, checking every pass: positions strictly increase, and each
    stream it knows continues at exactly the next version."""

    def __init__(self, prefix: str) -> None:
        self.prefix, self.position, self.versions = prefix, store.head_position(), Counter[str]()
        self.seen: list[Recorded] = []

    def read(self, limit: int = 3) -> None:
        while batch := store.read_all(after=self.position, limit=limit):
            for recorded in batch:
                assert recorded.position > self.position, f"position {recorded.position} after {self.position}"
                self.position = recorded.position
                if recorded.stream_id.startswith(self.prefix):
                    expected = self.versions[recorded.stream_id] + 1
                    assert recorded.version == expected, (
                        f"{recorded.stream_id}: reader got version {recorded.version}, expected {expected}"
                    )
                    self.versions[recorded.stream_id] = recorded.version
                    self.seen.append(recorded)


def wait_for_a_lock_wait() -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                return
        time.sleep(0.01)
    raise AssertionError("no session started waiting for a lock")


def appended(session: Session, stream: str, expected: int, amount: int = 1) -> object:
    return session.run(lambda: store.append(stream, [ToyCredited(amount=amount)], expected_version=expected))


def test_a_transaction_that_wrote_first_is_refused_rather_than_appended_behind_a_newer_head(stream_id):
    shared, reader = stream_id + "-shared", Reader(stream_id)
    store.append(shared, [ToyCredited(amount=1)], expected_version=0)
    older, newer = Session(), Session()
    refused = False
    try:
        older.begin()
        appended(older, stream_id + "-elsewhere", 0)  # the older transaction writes first: it has its id now
        appended(newer, shared, 1)  # a newer transaction appends version 2 and commits
        try:
            appended(older, shared, 2)  # the older one, at READ COMMITTED, sees version 2 and appends 3
        except ConcurrencyError as exc:
            refused = isinstance(exc, StaleTransaction)
            older.rollback()
            older.begin()
            appended(older, shared, 2)  # the whole unit of work again, in a new transaction
        older.commit()
    finally:
        older.close()
        newer.close()

    reader.read()
    assert [(r.stream_id, r.version) for r in reader.seen if r.stream_id == shared] == [(shared, v) for v in (1, 2, 3)]
    assert refused  # appending version 3 in the older transaction would have put it before version 2


def test_a_lost_race_retried_inside_the_transaction_is_refused_once_a_newer_writer_moved_on(stream_id):
    shared, reader = stream_id + "-shared", Reader(stream_id)
    store.append(shared, [ToyCredited(amount=1)], expected_version=0)
    winner, loser, third = Session(), Session(), Session()
    try:
        winner.begin()
        appended(winner, shared, 1)  # version 2, not committed yet
        loser.begin()
        blocked = loser.start(lambda: store.append(shared, [ToyCredited(amount=2)], expected_version=1))
        wait_for_a_lock_wait()  # the loser has inserted version 2 too, and waits for the winner's outcome
        winner.commit()
        with pytest.raises(ConcurrencyError):
            loser.wait(blocked)  # lost the race on (stream, version 2): this transaction has an id now
        appended(third, shared, 2)  # a newer transaction appends version 3 and commits
        with pytest.raises(StaleTransaction):
            appended(loser, shared, 3)  # the service's retry, inside the same transaction
        loser.rollback()
        appended(loser, shared, 3)  # and in a new transaction it goes through
    finally:
        for session in (winner, loser, third):
            session.close()

    reader.read()
    assert [r.version for r in reader.seen] == [1, 2, 3, 4]


def test_random_interleavings_keep_every_stream_in_order_for_every_reader_pass(stream_id):
    """Writers that write before appending, retry lost races in place, append to two streams at once, roll
    back, and run again in a new transaction when refused as stale; a reader passes in between."""
    rng = random.Random(20261201)
    shared = [f"{stream_id}-s{n}" for n in range(3)]
    writers = [Session() for _ in range(3)]
    for writer in writers:  # a writer blocked behind another's uncommitted version gives up fast, as a conflict
        writer.run(lambda: connection.cursor().execute("SET lock_timeout = '20ms'"))
    reader, committed, outcomes = Reader(stream_id), Counter[tuple[str, int]](), Counter[str]()

    def script(n: int, round_no: int):
        """One writer's transaction, step by step; yields before each step so steps can interleave."""
        session, pending = writers[n], []
        yield
        session.begin()
        if rng.random() < 0.5:
            yield
            private = f"{stream_id}-w{n}-r{round_no}"
            session.run(functools.partial(store.append, private, [ToyCredited(amount=1)], expected_version=0))
            pending.append((private, 1))
        streams = rng.sample(shared, rng.choice([1, 1, 2]))
        for _attempt in range(4):
            yield
            try:
                result = session.run(functools.partial(_append_at_head, streams, rng.randint(1, 2)))
            except StaleTransaction:
                outcomes["stale"] += 1
                session.rollback()
                session.begin()  # the whole unit again, in a new transaction (the private write is gone)
                pending = []
                continue
            except ConcurrencyError:
                outcomes["lost race"] += 1
                continue
            pending += [(s, v) for s in streams for v in range(result[s][0] + 1, result[s][1] + 1)]
            break
        yield
        if rng.random() < 0.8:
            session.commit()
            committed.update(pending)
            outcomes["commit"] += 1
        else:
            session.rollback()
            outcomes["rollback"] += 1

    try:
        for round_no in range(150):
            scripts = [script(n, round_no) for n in range(len(writers))]
            while scripts:
                current = rng.choice(scripts)
                if next(current, StopIteration) is StopIteration:
                    scripts.remove(current)
                if rng.random() < 0.3:
                    reader.read()
            reader.read()
    finally:
        for writer in writers:
            writer.close()

    assert Counter((r.stream_id, r.version) for r in reader.seen) == committed  # each once, none lost
    for stream in shared:
        assert [r.version for r in store.load(stream).events] == list(range(1, reader.versions[stream] + 1))
    assert outcomes["stale"] > 0 and outcomes["lost race"] > 0 and outcomes["rollback"] > 0, outcomes


def _append_at_head(streams: list[str], count: int) -> dict[str, tuple[int, int]]:
    heads = {stream: store.load(stream).version for stream in streams}
    result = store.append_streams(
        [StreamAppend(stream, [ToyCredited(amount=1)] * count, heads[stream]) for stream in streams]
    )
    return {stream: (heads[stream], result.versions[stream]) for stream in streams}


def test_replay_ranges_and_the_api_log_read_in_the_same_order(stream_id, teller):
    shared = stream_id + "-shared"
    for version in range(6):
        store.append(shared, [ToyCredited(amount=1), ToyCredited(amount=2)], expected_version=2 * version)
    start = store.load(shared).events[0].position - 1

    ranged = store.read_range(start + 1, store.head_position(), after=start, limit=100)
    pages, after = [], start
    while page := teller.get("/api/events", {"after_position": str(after), "limit": "5"}).json()["items"]:
        pages += page
        after = page[-1]["position"]

    mine = [(e["stream_id"], e["version"]) for e in pages if e["stream_id"] == shared]
    assert mine == [(shared, v) for v in range(1, 13)]
    assert [r.version for r in ranged if r.stream_id == shared] == list(range(1, 13))
    assert [e["position"] for e in pages] == sorted({e["position"] for e in pages})


def test_a_stream_lock_makes_same_stream_writers_wait_and_no_one_else(stream_id):
    holder, same, other = Session(), Session(), Session()
    try:
        holder.begin()
        holder.run(lambda: store.lock_streams([stream_id + "-a"]))
        other.run(lambda: store.append(stream_id + "-b", [ToyCredited(amount=1)], expected_version=0))  # at once
        same.begin()
        waiting = same.start(lambda: store.lock_streams([stream_id + "-a", stream_id + "-c"]))
        wait_for_a_lock_wait()
        holder.commit()
        same.wait(waiting)
        same.commit()
    finally:
        for session in (holder, same, other):
            session.close()
    assert store.load(stream_id + "-b").version == 1
