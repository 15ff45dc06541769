"""`make run` (python -m config.launcher run) started by a test in a run directory of its own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "demo-pass-123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def leftovers(run_dir: Path) -> list[str]:
    """Processes started for this run: their command line or environment names its run directory."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            cmdline = " ".join(proc.info["cmdline"] or [])
            if str(run_dir) in cmdline or proc.environ().get("LEDGER_RUN_DIR") == str(run_dir):
                found.append(f"{proc.pid}: {cmdline}")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def started(run_dir: Path, role: str) -> int | None:
    """The pid of the launcher's child running `role` (rqworker, or the gunicorn master), if there is one."""
    found = started_all(run_dir, role)
    return found[0] if found else None


def started_all(run_dir: Path, role: str) -> list[int]:
    """The pids of the launcher's children running `role`."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "ppid"]):
        try:
            cmdline = " ".join(proc.info["cmdline"] or [])
            parent = psutil.Process(proc.info["ppid"]).cmdline() if proc.info["ppid"] else []
            if role in cmdline and proc.environ().get("LEDGER_RUN_DIR") == str(run_dir) and "config.launcher" in parent:
                found.append(proc.info["pid"])
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def serves(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.2)


class Launch:
    """`python -m config.launcher run` in a run directory of its own, its output collected."""

    def __init__(self, run_dir: Path, port: int, **extra_env: str) -> None:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
        env.update(LEDGER_RUN_DIR=str(run_dir), PORT=str(port), DEMO_PASSWORD=PASSWORD, **extra_env)
        self.run_dir, self.port, self.ready = run_dir, port, threading.Event()
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "config.launcher", "run"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if "Ledger is running at" in line:
                self.ready.set()

    @property
    def text(self) -> str:
        return "".join(self.output)

    def wait_ready(self) -> None:
        assert self.ready.wait(120), self.text
        time.sleep(1)  # let the banner's remaining lines arrive

    def ctrl_c(self) -> int:
        os.killpg(self.process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        return self.process.wait(90)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)


def assert_nothing_left(run_dir: Path) -> None:
    deadline = time.monotonic() + 30  # a loaded machine (CI) can take a while to stop PostgreSQL
    while leftovers(run_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = leftovers(run_dir)
    assert left == [], f"still running after the stop: {left}"


def of_run(process: psutil.Process, run_dir: Path) -> bool:
    try:
        cmdline = " ".join(process.cmdline())
        return process.environ().get("LEDGER_RUN_DIR") == str(run_dir) or str(run_dir) in cmdline
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
