"""B8: from a command's commit to every read model showing it, with real `rqworker` processes.

Deposits are issued through the command service at a steady rate (paced, from a few threads); each records
its commit time and position. A watcher reads the lowest projector checkpoint every 2 ms: a command is
visible once every projector's checkpoint has reached its position (`position >= p` means applied).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

from bench import ledger
from projections.registry import PROJECTORS

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Lag:
    rate: float  # commands per second asked for
    achieved: float  # commands per second committed
    p50: float  # milliseconds
    p95: float
    p99: float
    max: float = float("nan")
    invisible: int = 0  # committed but not in every read model 30 s after the run (must be 0)


class Workers:
    """`count` `manage.py rqworker projections default` processes, stopped on exit."""

    def __init__(self, count: int) -> None:
        self.logs = tempfile.TemporaryDirectory(prefix="bench-workers-")
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "LEDGER_CATCHUP_SECONDS": "1"}
        self.processes = [
            subprocess.Popen(
                [sys.executable, "manage.py", "rqworker", "projections", "default", "--name", f"bench-{uuid.uuid4()}"],
                cwd=ROOT,
                env=env,
                stdout=(Path(self.logs.name) / f"worker-{n}.log").open("w"),
                stderr=subprocess.STDOUT,
            )
            for n in range(count)
        ]

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(30)
        self.logs.cleanup()


def measure(rate: float, seconds: float, threads: int = 4) -> Lag:
    """Paced deposits for `seconds` at `rate` per second; the commit-to-visible lag of each."""
    accounts = [ledger.open_for_commands() for _ in range(threads * 4)]
    committed: list[tuple[int, float]] = []  # (position, commit time)
    visible: dict[int, float] = {}
    done = threading.Event()
    watcher = threading.Thread(target=_watch, args=(committed, visible, done))
    watcher.start()
    began = time.monotonic()
    senders = [
        threading.Thread(target=_send, args=(accounts[n::threads], rate / threads, began + seconds, committed))
        for n in range(threads)
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    elapsed = time.monotonic() - began
    deadline = time.monotonic() + 30
    while len(visible) < len(committed) and time.monotonic() < deadline:
        time.sleep(0.01)
    done.set()
    watcher.join()
    lags = sorted((visible.get(position, float("inf")) - at) * 1000 for position, at in committed)
    invisible = sum(1 for position, _ in committed if position not in visible)
    p50, p95, p99 = (_percentile(lags, q) for q in (50, 95, 99))
    top = lags[-1] if lags else float("nan")
    return Lag(rate, len(committed) / elapsed, p50, p95, p99, max=top, invisible=invisible)


def _send(accounts: list[uuid.UUID], rate: float, until: float, committed: list[tuple[int, float]]) -> None:
    try:
        interval, due, n = 1 / rate, time.monotonic(), 0
        while due < until:
            time.sleep(max(0.0, due - time.monotonic()))
            position = ledger.deposit_command(accounts[n % len(accounts)])
            committed.append((position, time.monotonic()))
            n, due = n + 1, due + interval
    finally:
        connection.close()


def _watch(committed: list[tuple[int, float]], visible: dict[int, float], done: threading.Event) -> None:
    names = list(PROJECTORS)
    seen = 0
    try:
        while not done.is_set():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT min(position), count(*) FROM projection_checkpoints WHERE name = ANY(%s)", [names]
                )
                low, count = cursor.fetchone()
            now = time.monotonic()
            if count == len(names):
                for position, _ in committed[seen:]:
                    if position <= low:
                        visible.setdefault(position, now)
                while seen < len(committed) and committed[seen][0] in visible:
                    seen += 1
            time.sleep(0.002)
    finally:
        connection.close()


def _percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]
