"""The dev launcher behind `make run` and `make test`.

    python -m config.launcher run             services, migrate, demo users, web + workers (restarted when they
                                              exit, config.supervisor); Ctrl-C stops all
    python -m config.launcher test -- CMD...  fresh services for one command (the test suite), then stop

When DATABASE_URL / REDIS_URL are set, those servers are used and nothing is started. Otherwise an embedded
PostgreSQL and Redis are started (config.embedded) and stopped again on exit, Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import psycopg

from config.embedded import EmbeddedPostgres, EmbeddedRedis, ServiceError
from config.env import flag
from config.leftovers import stop_leftovers
from config.supervisor import Supervised, Supervisor
from eventstore import database_roles

ROOT = Path(__file__).resolve().parent.parent
DEMO_USERS = "admin (superuser), teller, auditor, operator, alice and bob (customers)"
_EXCEPTION_LINE = re.compile(r"^[\w.]+(Error|Exception|Failure|Violation): ")


class Stop(Exception):
    """Raised in the main thread by SIGINT/SIGTERM so that every `finally` runs."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def say(message: str) -> None:
    print(f"ledger: {message}", flush=True)


@dataclass
class Services:
    urls: dict[str, str]
    redis: EmbeddedRedis | None = None  # the embedded one, if started here


@contextmanager
def services(run_dir: Path, *, fresh: bool) -> Iterator[Services]:
    """Yield DATABASE_URL and REDIS_URL, starting embedded servers for whichever is unset."""
    urls = {name: os.environ[name] for name in ("DATABASE_URL", "REDIS_URL") if os.environ.get(name)}
    running = Services(urls)
    started: list[EmbeddedPostgres | EmbeddedRedis] = []
    scratch = Path(tempfile.mkdtemp(prefix="test-", dir=run_dir)) if fresh else run_dir
    try:
        if "DATABASE_URL" not in urls:
            postgres = EmbeddedPostgres(scratch / "pgdata", delete_on_stop=fresh)
            started.append(postgres)
            urls["DATABASE_URL"] = postgres.start()
            for line in postgres.recovered:
                say(f"recovered: {line}")
            say(f"embedded PostgreSQL started ({scratch / 'pgdata'})")
        if "REDIS_URL" not in urls:
            running.redis = EmbeddedRedis(scratch / "redis")
            started.append(running.redis)
            urls["REDIS_URL"] = running.redis.start()
            say("embedded Redis started")
        yield running
    finally:
        for service in reversed(started):
            service.stop()
        if started:
            say("embedded services stopped")
        if fresh:
            shutil.rmtree(scratch, ignore_errors=True)


def run() -> int:
    run_dir = Path(os.environ.get("LEDGER_RUN_DIR", ROOT / ".run"))
    run_dir.mkdir(parents=True, exist_ok=True)
    # Every process started from here carries it, so a later start can find what a crash left running.
    os.environ["LEDGER_RUN_DIR"] = str(run_dir)
    port = os.environ.get("PORT", "8000")
    supervisor = Supervisor([])
    try:
        workers = _worker_count()
        password = os.environ.get("DEMO_PASSWORD") or _kept_secret(run_dir, "demo-password", 12)
        for line in stop_leftovers(run_dir):
            say(f"recovered: {line}")
        _check_port_free(port)
        with services(run_dir, fresh=False) as running:
            urls = running.urls
            metrics_dir = run_dir / "prometheus"  # gunicorn's processes add up their counters here
            shutil.rmtree(metrics_dir, ignore_errors=True)
            metrics_dir.mkdir()
            env = {
                **os.environ,
                **urls,
                "DEMO_PASSWORD": password,
                "PYTHONUNBUFFERED": "1",
                "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            }
            env.setdefault("DJANGO_DEBUG", "1")
            production = not flag("DJANGO_DEBUG", env["DJANGO_DEBUG"])
            env.setdefault("LEDGER_MAIL_DIR", str(run_dir / "mail"))  # notifications, one file each
            if production:
                # The production profile, served over plain HTTP on 127.0.0.1: a key of its own, kept in .run.
                env.setdefault("SECRET_KEY", _kept_secret(run_dir, "secret-key", 64))
                env.setdefault("LEDGER_HTTPS", "0")
                env.setdefault("LEDGER_SECURE_COOKIES", "0")
            as_role = _database_roles(run_dir, env)
            _write_run_env(run_dir, as_role["worker"])
            _manage(as_role["owner"], "migrate", "--noinput", "-v", "0")
            if as_role["owner"] is not env:  # tables the migration made: their owners and grants
                _manage(env, "database_roles", "-v", "0")
            _manage(as_role["worker"], "demo_data", "--with-accounts")
            if production:
                _manage(env, "collectstatic", "--noinput", "-v", "0")
            manage = [sys.executable, str(ROOT / "manage.py")]
            supervisor.processes = [Supervised("web", _web_command(port), as_role["web"], ROOT)] + [
                Supervised(f"worker-{n}", [*manage, "rqworker", "projections", "default"], as_role["worker"], ROOT)
                for n in range(1, workers + 1)
            ]
            if running.redis is not None:  # the embedded Redis is started again too if it dies
                redis = running.redis
                supervisor.processes.append(Supervised("redis", redis.command, env, ROOT, process=redis.process))
            try:
                supervisor.start()
                _wait_until_serving(port, supervisor)
                _banner(port, password, {**urls, "DATABASE_URL": as_role["worker"]["DATABASE_URL"]}, workers)
                supervisor.watch()
            finally:
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
                supervisor.stop()  # web and workers first, then (leaving the `with`) the services
            return 0  # pragma: no cover (watch returns only by Stop)
    except Stop:
        return 0
    except Exception as exc:  # one line naming the cause (and the fix, where we know it), never a traceback
        say(f"could not start: {exc}" if isinstance(exc, ServiceError) else f"could not start: {exc!r}")
        return 1


def _manage(env: dict[str, str], *args: str) -> None:
    """Run `manage.py *args`; its output is shown, and a failure becomes a ServiceError with its last line."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    sys.stdout.write(done.stdout)
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()] or ["no output"]
        # The exception's own line ("...Error: message") says the cause; a traceback's frames do not.
        cause = next((line for line in reversed(lines) if _EXCEPTION_LINE.match(line)), lines[-1])
        raise ServiceError(f"manage.py {args[0]} failed: {_EXCEPTION_LINE.sub('', cause)}")


def _database_roles(run_dir: Path, env: dict[str, str]) -> dict[str, dict[str, str]]:
    """{owner, web, worker: the environment to run as that role}. When DATABASE_URL's user may create roles
    (the embedded PostgreSQL's superuser, say), `manage.py database_roles` creates them, with passwords kept in
    .run; otherwise, or with LEDGER_DB_ROLES=0, everything runs as that user, as it is given."""
    if not flag("LEDGER_DB_ROLES", env.get("LEDGER_DB_ROLES", "1")):
        return dict.fromkeys(("owner", "web", "worker"), env)
    with psycopg.connect(env["DATABASE_URL"], connect_timeout=10) as conn, conn.cursor() as cursor:
        if not database_roles.may_create_roles(cursor):
            say("DATABASE_URL's user may not create roles: web and workers run as it (docs/security.md)")
            return dict.fromkeys(("owner", "web", "worker"), env)
    passwords = {kind: _kept_secret(run_dir, f"db-password-{kind}", 24) for kind in ("owner", "web", "worker")}
    _manage(
        {**env, **{f"LEDGER_DB_PASSWORD_{kind.upper()}": value for kind, value in passwords.items()}}, "database_roles"
    )
    urls = database_roles.role_urls(env["DATABASE_URL"], passwords)
    as_role = {kind: {**env, "DATABASE_URL": url} for kind, url in urls.items()}
    as_role["worker"]["DATABASE_OWNER_URL"] = urls["owner"]  # for .run/env: migrate by hand runs as the owner
    return as_role


def _check_port_free(port: str) -> None:
    with socket.socket() as probe:
        probe.settimeout(1)
        if probe.connect_ex(("127.0.0.1", int(port))) == 0:
            raise ServiceError(
                f"port {port} is in use (another `make run`, or another server): stop it, or start with PORT=8001"
            )


def test(command: list[str]) -> int:
    if not command:
        say("usage: python -m config.launcher test -- COMMAND [ARGS...]")
        return 2
    run_dir = ROOT / ".run"
    run_dir.mkdir(exist_ok=True)
    child: subprocess.Popen[bytes] | None = None
    try:
        with services(run_dir, fresh=True) as running:
            child = subprocess.Popen(command, env={**os.environ, **running.urls}, cwd=ROOT)
            return child.wait()
    except Stop:
        return 130
    except ServiceError as exc:
        say(str(exc))
        return 1
    finally:
        if child is not None and child.poll() is None:
            child.terminate()
            child.wait()


def _web_command(port: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--threads",
        "4",
        "--graceful-timeout",
        "5",
        "--access-logfile",
        "-",
        # The path without its query string, and no referrer: search terms (names, e-mails) stay out of logs.
        "--access-logformat",
        '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms',
    ]


def _worker_count() -> int:
    """LEDGER_WORKERS: how many projection workers (each projector is still applied by one at a time)."""
    text = os.environ.get("LEDGER_WORKERS", "1")
    if not text.isdigit() or not 1 <= int(text) <= 32:
        raise ServiceError(f"LEDGER_WORKERS must be a whole number from 1 to 32, not {text!r}")
    return int(text)


def _wait_until_serving(port: str, supervisor: Supervisor) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if exited := supervisor.exited_during_start():
            raise ServiceError(f"{', '.join(exited)} exited during start-up (its output is above)")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    raise ServiceError(f"nothing answered on 127.0.0.1:{port} within 60 s")


def _write_run_env(run_dir: Path, env: dict[str, str]) -> None:
    """The URLs and the profile (config.env.RUN_PROFILE), so manage.py in a second terminal needs nothing else."""
    from config.env import RUN_PROFILE

    keys = ("DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL", *RUN_PROFILE)
    path = run_dir / "env"
    path.write_text("".join(f"{key}={env[key]}\n" for key in keys if key in env))
    path.chmod(0o600)  # it may hold the production profile's SECRET_KEY


def _kept_secret(run_dir: Path, name: str, length: int) -> str:
    """A generated secret kept in .run (readable by its owner only), the same from one `make run` to the next:
    the demo password (logins stay the same) and the production profile's SECRET_KEY (sessions survive)."""
    path = run_dir / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(length))
        path.chmod(0o600)
    return path.read_text().strip()


def _banner(port: str, password: str, urls: dict[str, str], workers: int) -> None:
    print(
        f"\n  Ledger is running at http://127.0.0.1:{port}/\n"
        f"  Web server and {workers} projection worker(s), each restarted if it exits.\n"
        f"  Logins: {DEMO_USERS}; password: {password}\n"
        f"  DATABASE_URL={database_roles.masked(urls['DATABASE_URL'])}\n"
        f"  REDIS_URL={urls['REDIS_URL']}\n"
        "  (also written to .run/env, so manage.py in another terminal reaches the same services)\n"
        "  Press Ctrl-C to stop.\n",
        flush=True,
    )


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    match argv:
        case ["run"]:
            return run()
        case ["test", "--", *command]:
            return test(command)
    say("usage: python -m config.launcher run | test -- COMMAND [ARGS...]")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
