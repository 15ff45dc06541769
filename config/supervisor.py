"""Keep `make run`'s processes running: a web server or worker that exits is started again, with back-off.

Each restart is logged as one JSON line. A process that keeps crashing is started again at most every
MAX_BACKOFF seconds; one that ran for STABLE_SECONDS counts as healthy again. Only `stop()` (Ctrl-C or
SIGTERM in the launcher) ends them, each with its process group, so nothing is left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

MAX_BACKOFF = 10.0
STABLE_SECONDS = 60.0
STOP_GRACE_SECONDS = 15


@dataclass
class Supervised:
    """One process to keep running: how to start it, and its restart history."""

    name: str
    command: list[str]
    env: dict[str, str]
    cwd: Path
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    failures: int = 0  # crashes in a row, each doubling the wait before the next start
    restart_at: float | None = None
    log: Callable[[str], None] = field(default=print)

    def start(self) -> None:
        # A session of its own: the terminal's Ctrl-C reaches only the launcher, which stops things in order.
        self.process = subprocess.Popen(self.command, env=self.env, cwd=self.cwd, start_new_session=True)
        self.started_at, self.restart_at = time.monotonic(), None

    def check(self, now: float) -> None:
        """Notice an exit and schedule the restart; start it when its time has come."""
        if self.process is not None and self.restart_at is None and (code := self.process.poll()) is not None:
            # What it left behind (gunicorn's workers, an RQ work-horse) goes too: no orphan keeps the port or a job.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.failures = 0 if now - self.started_at >= STABLE_SECONDS else self.failures + 1
            delay = min(MAX_BACKOFF, 0.5 * 2 ** max(self.failures - 1, 0))
            self.restart_at = now + delay
            self._event("process exited; restarting", returncode=code, restart_in_seconds=delay)
        if self.restart_at is not None and now >= self.restart_at:
            self.restarts += 1
            self.start()
            self._event("process restarted", pid=self.process.pid if self.process else None, restarts=self.restarts)

    def stop(self) -> None:
        self.restart_at = None
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)

    def wait(self) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def _event(self, message: str, **fields: object) -> None:
        line = {"time": datetime.now(UTC).isoformat(), "level": "WARNING", "logger": "ledger.supervisor"}
        self.log(json.dumps(line | {"message": message, "process": self.name, **fields}))


class Supervisor:
    def __init__(self, processes: list[Supervised]) -> None:
        self.processes = processes

    def start(self) -> None:
        """Start every process that is not running yet (one may be handed over already running)."""
        for process in self.processes:
            if process.process is None:
                process.start()

    def exited_during_start(self) -> list[str]:
        return [p.name for p in self.processes if p.process is not None and p.process.poll() is not None]

    def watch(self, interval: float = 0.5) -> None:
        """Restart what exits, until interrupted (the launcher's signal handler raises)."""
        while True:
            now = time.monotonic()
            for process in self.processes:
                process.check(now)
            time.sleep(interval)

    def stop(self) -> None:
        for process in self.processes:
            process.stop()
        for process in self.processes:
            process.wait()
