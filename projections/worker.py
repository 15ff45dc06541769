"""The RQ worker for projections: `manage.py rqworker projections default` (settings.RQ["WORKER_CLASS"]).

Besides running queued jobs, it catches every projector up (and delivers due notifications) on start and then
every LEDGER_CATCHUP_SECONDS, in a thread of its own that talks only to PostgreSQL (and the mail server). So an
emptied queue, a restarted Redis or a lost job delays projections by at most that interval, and a Redis outage
does not stop them at all.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.db import connection
from rq import SimpleWorker

log = logging.getLogger(__name__)
HEARTBEAT_EVERY_SECONDS = 5.0  # RQ keeps a worker's key for worker_ttl + 60 s (480 by default) after a beat


class ProjectionWorker(SimpleWorker):
    """Runs each job in this process (no fork per job, as RQ's default does): a fork, a fresh interpreter state
    and a new database connection per wake-up were most of the commit-to-read-model lag (bench B8). A job that
    crashes the process is restarted by the supervisor like any worker crash, and loses nothing (the
    checkpoint moves with the rows)."""

    _beat_at = float("-inf")

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        """RQ beats (two Redis round trips) three times per job; with a wake-up per projector per commit wave,
        that was a tenth of the worker's time (bench B8, py-spy). A bare beat within HEARTBEAT_EVERY_SECONDS of
        the last one is skipped; beats with their own timeout or inside RQ's pipelines always go."""
        moment = time.monotonic()
        if timeout is None and pipeline is None and moment - self._beat_at < HEARTBEAT_EVERY_SECONDS:
            return
        self._beat_at = moment
        super().heartbeat(timeout, pipeline)

    def bootstrap(self, *args: Any, **kwargs: Any) -> None:
        super().bootstrap(*args, **kwargs)
        self._catch_up_stop = threading.Event()
        self._catch_up_thread = threading.Thread(target=self._periodic_catch_up, name="catch-up", daemon=True)
        self._catch_up_thread.start()

    def teardown(self) -> None:
        stop = getattr(self, "_catch_up_stop", None)
        if stop is not None:
            stop.set()
            self._catch_up_thread.join(timeout=30)
        super().teardown()  # type: ignore[no-untyped-call]

    def _periodic_catch_up(self) -> None:
        from projections import outbox
        from projections.jobs import catch_up_everything

        while True:
            try:
                applied = catch_up_everything()
                if applied:
                    log.info("periodic catch-up applied events", extra={"events": applied})
                outbox.deliver_due()  # so a lost delivery job only delays a notification
            except Exception:
                log.exception("periodic catch-up failed; trying again next interval")
            finally:
                connection.close()  # a fresh connection each pass survives a PostgreSQL restart
            if self._catch_up_stop.wait(settings.LEDGER_CATCHUP_SECONDS):
                return
