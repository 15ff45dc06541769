"""`make run` on a machine with nothing running: embedded services, a page served, crashes survived, a recovery
after everything was killed, and a clean Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import urllib.request

import psutil
import psycopg
import pytest

from eventstore import database_roles
from tests.api_client import Http
from tests.launch import (
    PASSWORD,
    ROOT,
    Launch,
    assert_nothing_left,
    free_port,
    of_run,
    serves,
    started,
    started_all,
    wait_for,
)

pytestmark = pytest.mark.slow


def test_make_run_serves_survives_crashes_and_stops_cleanly_on_ctrl_c(run_dir):
    port = free_port()
    launch = Launch(run_dir, port, LEDGER_WORKERS="2")
    try:
        launch.wait_ready()
        assert "Web server and 2 projection worker(s)" in launch.text
        wait_for(lambda: len(started_all(run_dir, "rqworker")) == 2, "two workers")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert response.status == 200
            assert "Ledger" in response.read().decode()
        banner = launch.text
        assert "password: demo-pass-123" in banner
        assert "DATABASE_URL=postgresql://" in banner and "REDIS_URL=unix://" in banner
        assert (run_dir / "env").read_text().startswith("DATABASE_URL=postgresql://ledger_worker:")
        assert_web_and_workers_connect_as_their_roles(run_dir, port)

        for role, count in (("rqworker", 2), ("gunicorn", 1)):  # a crash of either is survived, with a log line
            victim = started(run_dir, role)
            assert victim is not None, role
            os.kill(victim, signal.SIGKILL)

            def back(role: str = role, count: int = count, victim: int = victim) -> bool:
                now = started_all(run_dir, role)
                return len(now) == count and victim not in now

            wait_for(back, f"{role} again")
            wait_for(lambda: '"message": "process restarted"' in launch.text, "the restart logged")
        wait_for(lambda: serves(port), "the page again")

        assert launch.ctrl_c() == 0
    finally:
        launch.kill()
    assert_nothing_left(run_dir)


def assert_web_and_workers_connect_as_their_roles(run_dir, port: int) -> None:
    """The least-privilege roles of eventstore.database_roles, not the embedded server's superuser."""
    teller = Http(f"http://127.0.0.1:{port}", "teller", PASSWORD)
    status, accounts = teller.call("GET", "/api/accounts")
    assert status == 200, accounts
    account = accounts["items"][0]["account_id"]
    status, body = teller.call(
        "POST", f"/api/accounts/{account}/deposits", {"amount": "1.00"}, headers={"Idempotency-Key": "roles-1"}
    )
    assert status == 201, body  # an append by the web role, through events_append
    worker_url = dict(line.split("=", 1) for line in (run_dir / "env").read_text().splitlines())["DATABASE_URL"]
    with psycopg.connect(database_roles.url_as(worker_url, "postgres", "")) as conn:
        users = {
            user
            for (user,) in conn.execute(
                "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = 'ledger' AND pid <> pg_backend_pid()"
            )
        }
    assert "ledger_web" in users and users <= {"ledger_web", "ledger_worker"}, users


@pytest.mark.faults
def test_after_everything_is_killed_mid_load_make_run_recovers_and_loses_no_acknowledged_command(run_dir):
    port = free_port()
    launch = Launch(run_dir, port)
    acknowledged, stop = [], threading.Event()
    try:
        launch.wait_ready()
        http = Http(f"http://127.0.0.1:{port}", "teller", PASSWORD)
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
        everything = [p for p in psutil.process_iter() if of_run(p, run_dir)]
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
        http = Http(f"http://127.0.0.1:{port}", "teller", PASSWORD)
        state = http.call("GET", f"/api/accounts/{account}/state")[1]
        positions: set[int] = set()
        after = 0
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


@pytest.mark.django_db
def test_a_database_from_before_the_global_order_stops_the_start_with_one_line_naming_the_fix(empty_database):
    from config.embedded import ServiceError
    from config.launcher import _manage

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env |= {"DATABASE_URL": empty_database, "DJANGO_DEBUG": "1"}
    _manage(env, "migrate", "eventstore", "0002", "-v", "0")  # the layout of the release before the fix
    with psycopg.connect(empty_database, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO events (stream_id, version, type, schema_version, data, metadata, hash)"
            " VALUES ('account-x', 1, 'AccountOpened', 1, '{}', '{}', 'h')"
        )

    with pytest.raises(ServiceError) as refused:
        _manage(env, "migrate", "--noinput", "-v", "0")

    message = str(refused.value)
    assert "\n" not in message and "Traceback" not in message
    assert "holds events written before the global-order fix" in message and "delete .run/pgdata" in message


def test_make_run_in_the_production_profile_serves_plain_http_locally_and_manage_py_needs_nothing_else(run_dir):
    port = free_port()
    launch = Launch(run_dir, port, DJANGO_DEBUG="0")
    try:
        launch.wait_ready()
        http = Http(f"http://127.0.0.1:{port}", "teller", PASSWORD)
        assert http.call("GET", "/api/accounts")[0] == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=10) as response:
            assert "csrfmiddlewaretoken" in response.read().decode()  # no redirect to https, no debug page
        assert (run_dir / "secret-key").exists() and "SECRET_KEY=" in (run_dir / "env").read_text()

        second_terminal = {k: v for k, v in os.environ.items() if k not in SERVICE_AND_PROFILE}
        checked = subprocess.run(
            [sys.executable, "manage.py", "verify_eventstore"],
            cwd=ROOT, env={**second_terminal, "LEDGER_RUN_DIR": str(run_dir)}, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stderr
        assert "problems: 0" in checked.stdout
        assert launch.ctrl_c() == 0
    finally:
        launch.kill()
    assert_nothing_left(run_dir)


SERVICE_AND_PROFILE = {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DJANGO_DEBUG"}
