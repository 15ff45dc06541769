"""`make run` on a machine with nothing running: embedded services, a page served, and a clean Ctrl-C."""

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
import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


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
    for proc in psutil.process_iter(["pid", "cmdline", "ppid"]):
        try:
            cmdline = " ".join(proc.info["cmdline"] or [])
            parent = psutil.Process(proc.info["ppid"]).cmdline() if proc.info["ppid"] else []
            if role in cmdline and proc.environ().get("LEDGER_RUN_DIR") == str(run_dir) and "config.launcher" in parent:
                return proc.info["pid"]
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return None


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


def test_make_run_serves_survives_crashes_and_stops_cleanly_on_ctrl_c(tmp_path):
    run_dir, port = tmp_path / "run", free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(LEDGER_RUN_DIR=str(run_dir), PORT=str(port), DEMO_PASSWORD="demo-pass-123")
    launcher = subprocess.Popen(
        [sys.executable, "-m", "config.launcher", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert launcher.stdout is not None
        for line in launcher.stdout:
            output.append(line)
            if "Ledger is running at" in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(120), "".join(output)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert response.status == 200
            assert "Ledger" in response.read().decode()
        time.sleep(1)  # let the banner's remaining lines arrive
        banner = "".join(output)
        assert "password: demo-pass-123" in banner
        assert "DATABASE_URL=postgresql://" in banner and "REDIS_URL=unix://" in banner
        assert (run_dir / "env").read_text().startswith("DATABASE_URL=postgresql://")

        for role in ("rqworker", "gunicorn"):  # a crash of either is survived: it comes back, with a log line
            victim = started(run_dir, role)
            assert victim is not None, role
            os.kill(victim, signal.SIGKILL)
            wait_for(lambda role=role, victim=victim: started(run_dir, role) not in (None, victim), f"{role} again")
            assert '"message": "process restarted"' in "".join(output)
        wait_for(lambda: serves(port), "the page again")

        os.killpg(launcher.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        assert launcher.wait(90) == 0
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)

    deadline = time.monotonic() + 10
    while leftovers(run_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert leftovers(run_dir) == []
