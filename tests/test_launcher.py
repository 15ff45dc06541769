"""`make run` on a machine with nothing running: embedded services, a page served, crashes survived, a recovery
after everything was killed, and a clean Ctrl-C."""

from __future__ import annotations

import contextlib
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

from tests.api_client import Http

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


class Launch:
    """`python -m config.launcher run` in a run directory of its own, its output collected."""

    def __init__(self, run_dir: Path, port: int) -> None:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
        env.update(LEDGER_RUN_DIR=str(run_dir), PORT=str(port), DEMO_PASSWORD="demo-pass-123")
        self.run_dir, self.port, self.output, self.ready = run_dir, port, [], threading.Event()
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


@pytest.fixture
def run_dir(tmp_path):
    """A run directory of its own; whatever a failed test left running in it is stopped afterwards."""
    from config.leftovers import stop_leftovers

    yield tmp_path / "run"
    stop_leftovers(tmp_path / "run")


def assert_nothing_left(run_dir: Path) -> None:
    deadline = time.monotonic() + 10
    while leftovers(run_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert leftovers(run_dir) == []


def test_make_run_serves_survives_crashes_and_stops_cleanly_on_ctrl_c(run_dir):
    port = free_port()
    launch = Launch(run_dir, port)
    try:
        launch.wait_ready()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert response.status == 200
            assert "Ledger" in response.read().decode()
        banner = launch.text
        assert "password: demo-pass-123" in banner
        assert "DATABASE_URL=postgresql://" in banner and "REDIS_URL=unix://" in banner
        assert (run_dir / "env").read_text().startswith("DATABASE_URL=postgresql://")

        for role in ("rqworker", "gunicorn"):  # a crash of either is survived: it comes back, with a log line
            victim = started(run_dir, role)
            assert victim is not None, role
            os.kill(victim, signal.SIGKILL)
            wait_for(lambda role=role, victim=victim: started(run_dir, role) not in (None, victim), f"{role} again")
            assert '"message": "process restarted"' in launch.text
        wait_for(lambda: serves(port), "the page again")

        assert launch.ctrl_c() == 0
    finally:
        launch.kill()
    assert_nothing_left(run_dir)


@pytest.mark.faults
def test_after_everything_is_killed_mid_load_make_run_recovers_and_loses_no_acknowledged_command(run_dir):
    port = free_port()
    launch = Launch(run_dir, port)
    acknowledged, stop = [], threading.Event()
    try:
        launch.wait_ready()
        http = Http(f"http://127.0.0.1:{port}", "teller", "demo-pass-123")
        status, opened = http.call("POST", "/api/accounts", {"holder_name": "Crash Test", "email": "c@example.com"})
        assert status == 201
        account = opened["account_id"]

        def load() -> None:
            while not stop.is_set():
                try:
                    status, body = http.call("POST", f"/api/accounts/{account}/deposits", {"amount": "1.00"})
                except OSError:
                    continue  # the server is gone: this one's outcome is unknown
                if status == 201:
                    acknowledged.append(body["position"])

        loader = threading.Thread(target=load)
        loader.start()
        wait_for(lambda: len(acknowledged) >= 20, "some deposits acknowledged")
        everything = [p for p in psutil.process_iter() if _of_run(p, run_dir)]
        for process in everything:  # web, workers, Redis, PostgreSQL and the launcher itself, as in a power cut
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(everything, timeout=10)
        stop.set()
        loader.join(30)
        pidfile = run_dir / "pgdata" / "postmaster.pid"
        assert pidfile.exists()  # PostgreSQL left it behind; make its pid belong to another process now
        lines = pidfile.read_text().splitlines()
        pidfile.write_text("\n".join([str(os.getpid()), *lines[1:]]) + "\n")

        launch = Launch(run_dir, port)
        launch.wait_ready()
        assert "recovered: PostgreSQL was not shut down cleanly" in launch.text
        http = Http(f"http://127.0.0.1:{port}", "teller", "demo-pass-123")
        state = http.call("GET", f"/api/accounts/{account}/state")[1]
        positions, after = set(), 0
        while page := http.call("GET", f"/api/events?after_position={after}&limit=500")[1]["items"]:
            positions.update(event["position"] for event in page)
            after = page[-1]["position"]

        assert set(acknowledged) <= positions  # every acknowledged deposit survived the crash
        assert int(state["balance"].split(".")[0]) >= len(acknowledged)
        assert launch.ctrl_c() == 0
    finally:
        stop.set()
        launch.kill()
    assert_nothing_left(run_dir)


def _of_run(process: psutil.Process, run_dir: Path) -> bool:
    try:
        cmdline = " ".join(process.cmdline())
        return process.environ().get("LEDGER_RUN_DIR") == str(run_dir) or str(run_dir) in cmdline
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


@pytest.mark.faults
def test_when_only_the_launcher_was_killed_the_next_start_stops_what_it_left_running(run_dir):
    port = free_port()
    first = Launch(run_dir, port)
    try:
        first.wait_ready()
        os.kill(first.process.pid, signal.SIGKILL)  # the launcher alone: its web server, worker and Redis live on
        first.process.wait(10)
        assert serves(port)

        second = Launch(run_dir, port)
        second.wait_ready()
        text = second.text
        assert "recovered: stopped a web server" in text and "recovered: stopped a worker" in text
        assert "recovered: stopped a Redis" in text
        assert serves(port)
        assert second.ctrl_c() == 0
    finally:
        first.kill()
    assert_nothing_left(run_dir)
