"""Faults injected for real into a running `make run` (its own PostgreSQL, Redis, gunicorn and rqworker) under
concurrent load: a worker and the web server SIGKILLed, Redis paused and killed (and started again empty),
PostgreSQL stopped with `-m immediate` and started again. The load and the checks are tests/stress.py's: no
acknowledged command lost, none applied twice, versions dense, positions increasing, every read model equal
to the fold of each stream read by id; /healthz stays up and /readyz answers 503 while PostgreSQL is down."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.launch import PASSWORD, ROOT, Launch, assert_nothing_left, free_port

pytestmark = [pytest.mark.faults, pytest.mark.slow]


def stress(run_dir: Path, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    """tests/stress.py against the running Ledger, reading its database as `manage.py` in a second terminal would."""
    urls = dict(line.split("=", 1) for line in (run_dir / "env").read_text().splitlines())
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"} | urls
    env |= {"LEDGER_RUN_DIR": str(run_dir), "DEMO_PASSWORD": PASSWORD, "DJANGO_DEBUG": "1"}
    command = [sys.executable, "-m", "tests.stress", "--url", f"http://127.0.0.1:{port}", "--run-dir", str(run_dir)]
    return subprocess.run([*command, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)


def test_every_fault_under_load_loses_nothing_repeats_nothing_and_leaves_read_models_right(run_dir):
    port = free_port()
    launch = Launch(run_dir, port, LEDGER_RATE_LIMIT_PER_MINUTE="1000000", LEDGER_DELIVERY_CLAIM_SECONDS="3")
    try:
        launch.wait_ready()
        schedule = ["3:kill-worker", "6:pause-redis:4", "12:kill-redis", "16:kill-web", "21:stop-postgres:5"]
        done = stress(run_dir, port, "--clients", "6", "--seconds", "32", *(f"--fault={f}" for f in schedule))
        report = done.stdout

        assert done.returncode == 0, report + done.stderr[-3000:]
        assert report.count("s kill-") == 3 and "pause-redis (4 s)" in report and "stop-postgres (5 s)" in report
        assert "/healthz during the PostgreSQL outage: 200" in report
        assert "/readyz during the PostgreSQL outage: 503" in report
        assert "violations                             0" in report
        for process in ("worker-1", "web", "redis"):  # each started again by make run's supervisor
            assert f'"message": "process restarted", "process": "{process}"' in launch.text, process
        assert launch.ctrl_c() == 0
    finally:
        launch.kill()
    assert_nothing_left(run_dir)
