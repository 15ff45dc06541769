"""What a wake-up job costs: it stops at the first short batch, applies a batch without a savepoint, creates a
projector's checkpoint row once, and the projection worker does not repeat RQ's heartbeat within
HEARTBEAT_EVERY_SECONDS. Real PostgreSQL and Redis; statements counted as Django logs them."""

from __future__ import annotations

import uuid

import django_rq
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projections import checkpoints, runner, worker
from projections.jobs import QUEUE, catch_up_job
from projections.models import AccountSummary, ProjectionCheckpoint
from projections.registry import PROJECTORS
from tests.projections.history import bulk_history

pytestmark = pytest.mark.django_db(transaction=True)  # the runner's own transaction, not a test's savepoint
NAME = "account_summaries"


def count(queries: list[dict[str, str]], text: str) -> int:
    return sum(text in query["sql"] for query in queries)


def head() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(position) FROM events")
        return int(cursor.fetchone()[0])


def test_the_first_catch_up_creates_the_checkpoint_row_and_later_ones_do_not_ask_again():
    bulk_history(accounts_count=1, deposits_each=1)  # the log may hold earlier tests' events: not counted on
    assert not ProjectionCheckpoint.objects.filter(name=NAME).exists()

    assert runner.catch_up(PROJECTORS[NAME]) > 0
    runner.drain(PROJECTORS[NAME])
    bulk_history(accounts_count=1, deposits_each=0)
    with CaptureQueriesContext(connection) as later:
        assert runner.catch_up(PROJECTORS[NAME]) == 1

    assert checkpoints.position(NAME) == head()
    assert count(later.captured_queries, "INSERT INTO projection_checkpoints") == 0


def test_a_wake_up_stops_at_the_first_short_batch_and_applies_it_without_a_savepoint():
    bulk_history(accounts_count=1, deposits_each=4)
    catch_up_job(NAME)
    summaries = AccountSummary.objects.count()
    bulk_history(accounts_count=1, deposits_each=2)

    with CaptureQueriesContext(connection) as job:
        assert catch_up_job(NAME) == 3

    assert checkpoints.position(NAME) == head()
    assert count(job.captured_queries, "pg_try_advisory_xact_lock") == 1  # no second, empty read
    assert count(job.captured_queries, "SAVEPOINT") == 0
    assert AccountSummary.objects.count() == summaries + 1


def test_a_wake_up_goes_on_while_batches_come_back_full(monkeypatch):
    runner.drain(PROJECTORS[NAME])
    monkeypatch.setattr(runner, "BATCH_SIZE", 2)
    bulk_history(accounts_count=1, deposits_each=4)

    with CaptureQueriesContext(connection) as job:
        assert catch_up_job(NAME) == 5

    assert count(job.captured_queries, "pg_try_advisory_xact_lock") == 3  # 2, 2, then 1: short, so done
    assert checkpoints.position(NAME) == head()


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
