"""What a wake-up costs: a commit's ring enqueues the due jobs together; a job stops at the first short batch,
applies a batch without a savepoint and creates a projector's checkpoint row once; the projection worker does
not repeat RQ's heartbeat within HEARTBEAT_EVERY_SECONDS. Real PostgreSQL and Redis; statements counted as
Django logs them."""

from __future__ import annotations

import uuid

import django_rq
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from eventstore import store
from projections import checkpoints, runner, worker
from projections.jobs import QUEUE, catch_up_job, wake
from projections.models import AccountSummary, ProjectionCheckpoint
from projections.registry import PROJECTORS
from tests.projections.history import bulk_history
from tests.projections.workers import wait_until

pytestmark = pytest.mark.django_db(transaction=True)  # the runner's own transaction, not a test's savepoint
NAME = "account_summaries"


def count(queries: list[dict[str, str]], text: str) -> int:
    return sum(text in query["sql"] for query in queries)


def head() -> int:
    """The last event's position, once the reader may read it: any transaction open on the server (another
    database's too, such as a concurrent test run's) holds the read horizon back, and counts below assume
    every event is readable."""

    def readable() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT events_horizon() > (SELECT max(position) FROM events)")
            return bool(cursor.fetchone()[0])

    wait_until(readable, 30, "the read horizon past the last event")
    return store.head_position()


def test_the_first_catch_up_creates_the_checkpoint_row_and_later_ones_do_not_ask_again():
    bulk_history(accounts_count=1, deposits_each=1)  # the log may hold earlier tests' events: not counted on
    head()
    assert not ProjectionCheckpoint.objects.filter(name=NAME).exists()

    assert runner.catch_up(PROJECTORS[NAME]) > 0
    runner.drain(PROJECTORS[NAME])
    bulk_history(accounts_count=1, deposits_each=0)
    reached = head()
    with CaptureQueriesContext(connection) as later:
        assert runner.catch_up(PROJECTORS[NAME]) == 1

    assert checkpoints.position(NAME) == reached
    assert count(later.captured_queries, "INSERT INTO projection_checkpoints") == 0


def test_a_wake_up_stops_at_the_first_short_batch_and_applies_it_without_a_savepoint():
    bulk_history(accounts_count=1, deposits_each=4)
    head()
    runner.drain(PROJECTORS[NAME])
    summaries = AccountSummary.objects.count()
    bulk_history(accounts_count=1, deposits_each=2)
    reached = head()

    with CaptureQueriesContext(connection) as job:
        assert catch_up_job(NAME) == 3

    assert checkpoints.position(NAME) == reached
    assert count(job.captured_queries, "pg_try_advisory_xact_lock") == 1  # no second, empty read
    assert count(job.captured_queries, "SAVEPOINT") == 0
    assert AccountSummary.objects.count() == summaries + 1


def test_a_wake_up_goes_on_while_batches_come_back_full(monkeypatch):
    head()
    runner.drain(PROJECTORS[NAME])
    monkeypatch.setattr(runner, "BATCH_SIZE", 2)
    bulk_history(accounts_count=1, deposits_each=4)
    reached = head()

    with CaptureQueriesContext(connection) as job:
        assert catch_up_job(NAME) == 5

    assert count(job.captured_queries, "pg_try_advisory_xact_lock") == 3  # 2, 2, then 1: short, so done
    assert checkpoints.position(NAME) == reached


def test_a_ring_enqueues_one_job_for_each_projector_not_already_pending(async_queues):
    queue = django_rq.get_queue(QUEUE)

    wake("account_summaries", "ledger_entries")
    wake("account_summaries", "account_search")  # account_summaries is pending: not again

    assert sorted(job.args[0] for job in queue.get_jobs()) == ["account_search", "account_summaries", "ledger_entries"]
    assert {job.func_name for job in queue.get_jobs()} == {"projections.jobs.catch_up_job"}


@pytest.fixture
def projection_worker():
    redis = django_rq.get_connection(QUEUE)
    made = worker.ProjectionWorker([django_rq.get_queue(QUEUE)], connection=redis, name=f"beat-{uuid.uuid4()}")
    yield made, redis
    redis.delete(made.key)


def test_the_worker_skips_a_bare_heartbeat_within_the_interval_but_not_one_with_its_own_timeout(
    projection_worker, monkeypatch
):
    made, redis = projection_worker
    made.heartbeat()
    assert redis.exists(made.key)

    redis.delete(made.key)
    made.heartbeat()
    assert not redis.exists(made.key)  # 5 s have not passed: skipped

    made.heartbeat(timeout=90)
    assert 0 < redis.ttl(made.key) <= 90

    redis.delete(made.key)
    monkeypatch.setattr(worker, "HEARTBEAT_EVERY_SECONDS", 0.0)
    made.heartbeat()
    assert redis.exists(made.key)
