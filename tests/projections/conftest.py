"""Fixtures for tests that run real `rqworker` processes."""

from __future__ import annotations

import pytest

from gateway.optional_redis import optional_redis
from tests.projections.workers import CATCH_UP_SECONDS, Worker


@pytest.fixture
def async_queues(settings):
    """Enqueue for the worker processes instead of running jobs inside the test."""
    settings.RQ_QUEUES = {name: {**queue, "ASYNC": True} for name, queue in settings.RQ_QUEUES.items()}
    optional_redis.reset()
    client = optional_redis.client()  # kept: a test may point REDIS_URL elsewhere
    client.flushdb()
    yield
    client.flushdb()  # no wake-up flag of a job no worker ran may silence later tests
    optional_redis.reset()


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []

    def start(name: str = "worker") -> Worker:
        worker = Worker(tmp_path, f"{name}-{len(started)}", catch_up_seconds=CATCH_UP_SECONDS)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
