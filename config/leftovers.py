"""What an unclean stop of `make run` left running, found and stopped before the next start.

Every process the launcher starts (web server, workers, PostgreSQL) inherits LEDGER_RUN_DIR; after a crash
of the launcher (kill -9, a closed terminal) a process that survived still carries it. Redis overwrites its
environment with its process title, so it is found by the pid file it writes in the run directory. The web server
would hold the port and the workers would talk to a Redis nobody manages, so they are stopped: SIGTERM, then
SIGKILL after a grace period. A PostgreSQL still serving the data directory is left alone: the next start
uses it as it is.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import psutil

GRACE_SECONDS = 10


def stop_leftovers(run_dir: Path) -> list[str]:
    """Stop every process of an earlier run of `run_dir` but PostgreSQL; returns what was stopped."""
    found = [process for process in _of_run(run_dir) if "postgres" not in _name(process)]
    stopped = [f"stopped a {_label(process)} (pid {process.pid}) left running by an earlier start" for process in found]
    for process in found:
        _signal(process, signal.SIGTERM)
    _, alive = psutil.wait_procs(found, timeout=GRACE_SECONDS)
    for process in alive:
        _signal(process, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=GRACE_SECONDS)
    return stopped


def _of_run(run_dir: Path) -> list[psutil.Process]:
    mine = {os.getpid(), os.getppid()}
    redis = _redis_pid(run_dir)
    found = []
    for process in psutil.process_iter(["pid"]):
        try:
            if process.pid in mine:
                continue
            if process.environ().get("LEDGER_RUN_DIR") == str(run_dir) or (redis and _is_redis(process, *redis)):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def _redis_pid(run_dir: Path) -> tuple[int, float] | None:
    """The pid in Redis's pid file, and when the file was written."""
    path = run_dir / "redis" / "redis.pid"
    try:
        return int(path.read_text().strip()), path.stat().st_mtime
    except (OSError, ValueError):
        return None


def _is_redis(process: psutil.Process, pid: int, written_at: float) -> bool:
    """That pid, still the Redis that wrote the file (a reused pid started later, as something else)."""
    return process.pid == pid and "redis" in process.name() and abs(process.create_time() - written_at) < 5


def _name(process: psutil.Process) -> str:
    try:
        return str(process.name())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return ""


def _label(process: psutil.Process) -> str:
    try:
        cmdline = " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        cmdline = ""
    labels = {"gunicorn": "web server", "rqworker": "worker", "redis": "Redis", "config.launcher": "launcher"}
    return next((label for needle, label in labels.items() if needle in cmdline), "process")


def _signal(process: psutil.Process, signum: int) -> None:
    with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
        process.send_signal(signum)
