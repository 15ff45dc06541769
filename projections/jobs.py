"""RQ jobs that drive the projectors. The queue is a doorbell, not the log: a lost job loses nothing.

`schedule_catch_up()` runs after every command's commit. For each projector it sets a short-lived pending
flag (SET NX) and enqueues one `catch_up_job` only when the flag was not already set; the job clears the flag
before it reads, so a commit after that rings again. That collapses a storm of commands into at most one
queued job per projector, without a fixed job id (which would either refuse wake-ups while a job runs or
overwrite a running job). If Redis is down, nothing fails: the worker's periodic catch-up
(projections.worker) finds the new events within LEDGER_CATCHUP_SECONDS.
"""

from __future__ import annotations

import logging
import time

import django_rq
import redis
from django.db import connection

from gateway.optional_redis import optional_redis
from projections import runner
from projections.registry import PROJECTORS, get

log = logging.getLogger(__name__)
QUEUE = "projections"
PENDING_PREFIX = "ledger:projection-pending:"
PENDING_TTL_SECONDS = 60  # a flag whose job was lost heals itself; the periodic catch-up covers the gap
JOB_TIME_BUDGET_SECONDS = 10.0


def catch_up_job(name: str) -> int:
    """Apply batches for one projector until one comes back short of a full batch (or the time budget is spent;
    then ring again). Returns the number of events applied. Safe to run twice at once or after a crash.

    A short batch means the reader reached the log's head as it was then; a command committed after that rang
    this doorbell again (its flag was cleared before the first read), so asking once more would only cost an
    empty transaction per wake-up (bench B8)."""
    optional_redis.run(lambda client: client.delete(PENDING_PREFIX + name), fallback=None, purpose="wake-up flag")
    projector, batch, total = get(name), runner.BATCH_SIZE, 0
    deadline = time.monotonic() + JOB_TIME_BUDGET_SECONDS
    try:
        while (applied := runner.catch_up(projector, batch_size=batch)) > 0:
            total += applied
            if applied < batch:
                break
            if time.monotonic() > deadline:
                wake(name)
                break
    except Exception as exc:
        if not runner.is_transient(exc):
            raise
        # The database is unwell, not the events: the periodic catch-up tries again (last_error shows it).
        log.warning("projection catch-up hit a transient fault", extra={"projector": name, "error": repr(exc)})
        connection.close_if_unusable_or_obsolete()
    return total


def schedule_catch_up() -> None:
    """Ring every projector's doorbell. Never raises: a stored command must not turn into an error."""
    wake(*PROJECTORS)


def wake(*names: str) -> None:
    """Set the pending flags of `names` in one round trip (pipelined), then enqueue a job for each flag that was
    not set already, all in one more (bench B2: one round trip per projector was a fifth of a command's time;
    five jobs enqueued one by one took 1.6 ms against 0.8 ms together, with a worker emptying the queue)."""

    def ring(client: redis.Redis) -> None:
        flags = client.pipeline(transaction=False)
        for name in names:
            flags.set(PENDING_PREFIX + name, "1", nx=True, ex=PENDING_TTL_SECONDS)
        due = [name for name, was_unset in zip(names, flags.execute(), strict=True) if was_unset]
        if due:
            queue = django_rq.get_queue(QUEUE)
            queue.enqueue_many(
                [queue.prepare_data(catch_up_job, (name,), result_ttl=60, failure_ttl=86400) for name in due]
            )

    try:
        optional_redis.run(ring, fallback=None, purpose="projection wake-up")
    except Exception:  # the synchronous queue of the tests runs the job right here; never fail the command
        log.exception("projection wake-up failed", extra={"projectors": names})
        connection.close_if_unusable_or_obsolete()


def rebuild_job(name: str, user: str) -> int:
    """Rebuild one projector (from the ops page); returns the number of events applied."""
    from projections import operations

    return operations.rebuild(get(name), user=user).events


def enqueue_rebuild(name: str, user: str) -> None:
    """Run a rebuild on a worker (RQ's default queue); rebuilds take longer than a request should."""
    django_rq.get_queue("default").enqueue(rebuild_job, name, user, job_timeout=3600, result_ttl=3600)


def catch_up_everything() -> int:
    """Bring every projector to the head directly, without the queue (the worker's periodic pass). A fault in
    one projector (noted in its last_error by the runner) does not hold the others back."""
    total = 0
    for projector in PROJECTORS.values():
        try:
            total += runner.drain(projector)
        except Exception:
            log.exception("catch-up failed; trying again next pass", extra={"projector": projector.name})
            connection.close_if_unusable_or_obsolete()
    return total
