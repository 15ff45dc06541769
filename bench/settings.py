"""Benchmark settings: the test settings, except that wake-ups go to Redis for workers (as in production)
instead of running every projection inside the measured command."""

from __future__ import annotations

from config.settings_test import *  # noqa: F403
from config.settings_test import RQ_QUEUES

for _queue in RQ_QUEUES.values():
    _queue["ASYNC"] = True
