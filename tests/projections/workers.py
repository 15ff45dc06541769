"""Real `manage.py rqworker` processes against the test database, for the projection acceptance tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from eventstore import store
from projections.registry import PROJECTORS
from projections.status import checkpoint

ROOT = Path(__file__).resolve().parents[2]
CATCH_UP_SECONDS = 1  # the test workers' periodic catch-up


def database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"]) + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgresql://{auth}@{quote(db['HOST'], safe='')}{port}/{db['NAME']}"


class Worker:
    def __init__(self, log_dir: Path, name: str, catch_up_seconds: int = 1) -> None:
        self.log = log_dir / f"{name}.log"
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
            "LEDGER_CATCHUP_SECONDS": str(catch_up_seconds),
        }
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "rqworker", "projections", "default", "--name", f"{name}-{os.getpid()}"],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_listening(self, timeout: float = 60) -> None:
        """Until the worker listens on its queues (its start-up can take seconds on a loaded machine)."""
        wait_until(lambda: "Listening on" in self.log.read_text(), timeout, f"{self.log.name} listening")

    def kill(self) -> None:
        """SIGKILL the worker (its whole process group): no clean-up, as in a crash."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll `condition`; return the seconds it took, or fail after `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)
    return time.monotonic() - started


def all_at_head() -> bool:
    head = store.head_position()
    return all(checkpoint(name) == head for name in PROJECTORS)


def catch_up_until_settled(rounds: int = 20) -> None:
    """The worker's periodic pass, repeated until no projector has an event waiting to be retried (tests run
    with LEDGER_PROJECTION_RETRY_MS = 0, so each pass is one more attempt)."""
    from projections.jobs import catch_up_everything
    from projections.models import ProjectionCheckpoint

    for _ in range(rounds):
        catch_up_everything()
        if not ProjectionCheckpoint.objects.filter(error_position__isnull=False).exists():
            return
    raise AssertionError(f"projectors still retrying after {rounds} passes")
