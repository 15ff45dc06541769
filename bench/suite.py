"""The benchmark suite: every measurement against a baseline measured in the same run.

    make bench         fresh embedded PostgreSQL and Redis (or DATABASE_URL / REDIS_URL); full sizes; writes
                       the table into docs/benchmarks.md and bench/results/latest.json
    make bench-smoke   every measurement at tiny sizes, in well under a minute (CI runs it)

Each measurement runs --rounds times (at least 3); within a round Ledger and its baseline run back to back,
so machine noise hits both alike, and the figure is the median of the per-round ratios (spread: min-max).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import django
import psycopg

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench import api_load as api  # noqa: E402
from bench import ledger, plots, raw, scaling  # noqa: E402
from bench.lag import Lag, Workers  # noqa: E402
from bench.lag import measure as measure_lag  # noqa: E402
from bench.library import Library  # noqa: E402
from bench.report import scaling_table, write_docs  # noqa: E402
from commands.domain import accounts  # noqa: E402
from eventstore.records import SnapshotState  # noqa: E402
from eventstore.store import append  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Sizes:
    seconds: float  # per throughput sample
    stream: int  # B5/B6: events in the long stream
    table: tuple[int, ...]  # B7/B10: table sizes measured, ascending
    rounds: int = 3


FULL = Sizes(seconds=3.0, stream=10_000, table=(10_000, 100_000, 1_000_000))
SMOKE = Sizes(seconds=0.2, stream=1_000, table=(1_000, 2_000))
LAG_SECONDS = {True: 0.5, False: 10.0}  # B8's paced run at each rate, smoke and full


@dataclass
class Row:
    id: str
    what: str
    target: str  # as the issue states it
    goal: float  # the ratio the target asks for
    higher_is_better: bool = True
    unit: str = "x"  # "ms" for B8, whose target is a latency
    ratios: list[float] = field(default_factory=list)
    detail: str = ""
    library: list[float] = field(default_factory=list)  # the eventsourcing library against the same baseline

    @property
    def library_median(self) -> float | None:
        return statistics.median(self.library) if self.library else None

    @property
    def median(self) -> float:
        return statistics.median(self.ratios) if self.ratios else float("nan")

    @property
    def passed(self) -> bool:
        return self.median >= self.goal if self.higher_is_better else self.median <= self.goal


def rate(work: Callable[[int], int], seconds: float, threads: int = 1) -> float:
    """Events per second that `threads` threads commit by calling work(thread) (it returns events done)."""
    counts = [0] * threads
    stop = time.monotonic() + seconds

    def run(n: int) -> None:
        try:
            while time.monotonic() < stop:
                counts[n] += work(n)
        finally:
            connection.close()

    began = time.monotonic()
    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.monotonic() - began)


class Writers:
    """Per thread: an account and its next version (a new account every 50 events, as real ones are many)."""

    def __init__(self, threads: int) -> None:
        self.heads: list[tuple[uuid.UUID, int]] = [(ledger.new_account(), 0) for _ in range(threads)]

    def next(self, n: int) -> tuple[uuid.UUID, int]:
        account, version = self.heads[n]
        if version >= 50:
            account, version = ledger.new_account(), 0
        self.heads[n] = (account, version + 1)
        return account, version + 1


def timed(work: Callable[[], object]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def append_throughput(row: Row, sizes: Sizes, url: str, threads: int, lib: Library) -> None:
    for _ in range(sizes.rounds):
        mine, theirs = Writers(threads), Writers(threads)
        aggregates = [lib.writer() for _ in range(threads)]
        conns = [raw.open_connection(url) for _ in range(threads)]
        try:
            ours = rate(partial(_append, mine), sizes.seconds, threads)
            base = rate(partial(_insert_on, conns, theirs), sizes.seconds, threads)
            library = rate(partial(_library_append, lib, aggregates), sizes.seconds, threads)
        finally:
            for conn in conns:
                conn.close()
        row.ratios.append(ours / base)
        row.library.append(library / base)
        row.detail = f"{ours:,.0f} vs {base:,.0f} events/s; eventsourcing {library:,.0f}/s"


def _library_append(lib: Library, aggregates: list[Any], n: int) -> int:
    lib.append(aggregates[n])
    return 1


def _append(writers: Writers, n: int) -> int:
    ledger.append_one(*writers.next(n))
    return 1


def _insert_on(conns: list[psycopg.Connection], writers: Writers, n: int) -> int:
    account, version = writers.next(n)
    raw.insert_one(conns[n], str(account), version)
    return 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: check that every measurement runs")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated ids, e.g. B1,B5 (SCALE: the scale-out runs)")
    parser.add_argument("--docs", type=Path, help="write the table into this markdown file")
    parser.add_argument("--table-sizes", help="B7/B10 log sizes, ascending, e.g. 10000,100000,1000000")
    args = parser.parse_args()
    sizes = replace(SMOKE if args.smoke else FULL, rounds=max(3, args.rounds))
    if args.table_sizes:
        sizes = replace(sizes, table=tuple(sorted(int(size) for size in args.table_sizes.split(","))))
    url = os.environ["DATABASE_URL"]
    call_command("migrate", verbosity=0)
    raw.create_table(url)
    wanted = {item.strip().upper() for item in args.only.split(",") if item.strip()}
    extras: dict[str, Any] = {}  # figures behind the plots: B8's runs, the scale-out sweep
    rows = _measure(sizes, url, wanted, extras)
    if not wanted or "SCALE" in wanted:
        began = time.monotonic()
        extras["scaling"] = scaling.run(scaling.SMOKE if args.smoke else scaling.FULL)
        print(f"scale-out measured in {time.monotonic() - began:.1f} s", flush=True)
    for row in rows:
        verdict = "pass" if row.passed else "FAIL"
        print(f"{row.id:<4} {row.median:8.2f}{row.unit:<2} target {row.target:<34} {verdict}  {row.detail}")
    results = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "smoke": args.smoke,
        "rounds": sizes.rounds,
        "sizes": asdict(sizes),
        "machine": f"{platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "postgresql": _server_version(),
        "rows": [
            asdict(row) | {"median": row.median, "passed": row.passed, "library_median": row.library_median}
            for row in rows
        ],
        **extras,
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2))
    if "scaling" in results:
        print(scaling_table(results))
    # Smoke runs draw too (so the plotting cannot rot), into the git-ignored results folder.
    images = args.docs.parent / "img" if args.docs else out
    if "lag" in results:
        print(f"plot: {plots.lag_percentiles(results, images)}")
    if "scaling" in results:
        print(f"plot: {plots.scaling_curves(results, images)}")
    if args.docs:
        write_docs(args.docs, results)


def _server_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return str(cursor.fetchone()[0])


def _measure(sizes: Sizes, url: str, wanted: set[str], extras: dict[str, Any]) -> list[Row]:
    rows = []
    lib = Library(url)
    lib.reset()
    peaks: dict[int, int] = {}  # log size: peak memory after a rebuild at that size (B10 grows, B7 reports)
    reads = Row("B9r", "GET /api/accounts/{id} (cached) vs GET /healthz", ">= 0.8x the trivial view", 0.8)
    plan: list[tuple[Row, Callable[[Row], None]]] = [
        (Row("B8", "commit to every read model, 1 rqworker, p95 at 100/s", "p95 <= 100 ms at 100/s", 100.0, False,
             "ms"), lambda row: lag(row, sizes, extras)),
        (Row("B9", "POST .../deposits under gunicorn vs GET /healthz", ">= 0.5x the trivial view", 0.5),
         lambda row: api_load(row, sizes, reads)),
        (reads, lambda row: None),  # filled in by B9's run
        (Row("B10", "append and load cost as the table grows", "largest/smallest <= 1.3", 1.3, False),
         lambda row: growth(row, sizes, peaks)),
        (Row("B7", "rebuild every projection from the whole log", ">= 0.3x raw ordered read", 0.3),
         lambda row: rebuild(row, sizes, url, peaks)),
        (Row("B1", "append, 1 event per commit, one writer", ">= 0.8x raw insert", 0.8),
         lambda row: append_throughput(row, sizes, url, 1, lib)),
        (Row("B2", "full command path (load, decide, append, snapshot check)", ">= 0.5x raw insert", 0.5),
         lambda row: command_path(row, sizes, url, lib)),
        (Row("B3", "4 concurrent writers, distinct streams", ">= 0.9x raw, 4 connections", 0.9),
         lambda row: append_throughput(row, sizes, url, 4, lib)),
        (Row("B4", "100 events per commit", ">= 0.8x raw executemany", 0.8),
         lambda row: batches(row, sizes, url)),
        (Row("B5", "load a long aggregate, no snapshot", ">= 0.5x raw read + fold", 0.5),
         lambda row: long_load(row, sizes, url, lib)),
        (Row("B6", "load the same aggregate with a snapshot", ">= 50x faster than B5", 50.0),
         lambda row: snapshot_load(row, sizes)),
    ]  # fmt: skip
    for row, run in plan:  # B10, then B7, first: they grow the log to their own sizes from empty
        if wanted and row.id.rstrip("r") not in wanted:
            continue
        began = time.monotonic()
        run(row)
        rows.append(row)
        print(f"{row.id} measured in {time.monotonic() - began:.1f} s", flush=True)  # progress on a long run
    lib.close()
    return sorted(rows, key=lambda row: (int(row.id[1:].rstrip("r")), row.id))


def command_path(row: Row, sizes: Sizes, url: str, lib: Library) -> None:
    """20 accounts in turn. The library's accounts are new each round: without snapshots (its default) every
    command replays the whole account, so its rate falls as they grow."""
    opened = [ledger.open_for_commands() for _ in range(20)]
    for _ in range(sizes.rounds):
        theirs = Writers(1)
        theirs_opened = [lib.open() for _ in range(20)]
        with raw.connect(url) as conn:
            ours = rate(partial(_deposit, opened, ledger.deposit_command), sizes.seconds)
            base = rate(partial(_insert_on, [conn], theirs), sizes.seconds)
            library = rate(partial(_deposit, theirs_opened, lib.deposit), sizes.seconds)
        row.ratios.append(ours / base)
        row.library.append(library / base)
        row.detail = f"{ours:,.0f} vs {base:,.0f} commands or events/s; eventsourcing {library:,.0f}/s"


def _deposit(opened: list[uuid.UUID], command: Callable[[uuid.UUID], object], n: int) -> int:
    account = opened.pop(0)
    opened.append(account)
    command(account)
    return 1


def batches(row: Row, sizes: Sizes, url: str) -> None:
    for _ in range(sizes.rounds):
        with raw.connect(url) as conn:
            ours = rate(lambda n: _ledger_batch(), sizes.seconds)
            many = rate(lambda n: _raw_batch(conn, raw.insert_many), sizes.seconds)
            copy = rate(lambda n: _raw_batch(conn, raw.copy_many), sizes.seconds)
        row.ratios.append(ours / many)
        row.detail = f"{ours:,.0f} vs {many:,.0f} events/s (COPY: {copy:,.0f}, Ledger {ours / copy:.2f}x of it)"


def _ledger_batch() -> int:
    ledger.append_batch(ledger.new_account(), 1, 100)
    return 100


def _raw_batch(conn: object, write: Callable[..., None]) -> int:
    write(conn, str(ledger.new_account()), 1, 100)
    return 100


def _long_stream(length: int, *, snapshot: bool) -> uuid.UUID:
    account = ledger.new_account()
    state = accounts.Account()
    for first in range(1, length + 1, 1000):
        count = min(1000, length + 1 - first)
        events: list[accounts.AccountEvent] = [
            ledger.opened(account) if v == 1 else ledger.deposited(account) for v in range(first, first + count)
        ]
        state = accounts.fold(events, state)
        kept = SnapshotState(state, accounts.STATE_SCHEMA) if snapshot and first + count > length else None
        append(
            accounts.account_stream(account), events, expected_version=first - 1, snapshot=kept, subject=ledger.OWNER
        )
    return account


def long_load(row: Row, sizes: Sizes, url: str, lib: Library) -> None:
    account = _long_stream(sizes.stream, snapshot=False)
    theirs = lib.long_account(sizes.stream)
    stream = accounts.account_stream(account)
    for _ in range(sizes.rounds):
        ours = timed(lambda: ledger.load(account))
        base = timed(lambda: raw.read_and_fold(url, stream))
        library = timed(lambda: lib.load(theirs))
        row.ratios.append(base / ours)
        row.library.append(base / library)
        row.detail = (
            f"{ours * 1000:,.0f} ms vs {base * 1000:,.0f} ms for {sizes.stream:,} events;"
            f" eventsourcing {library * 1000:,.0f} ms"
        )


def snapshot_load(row: Row, sizes: Sizes) -> None:
    plain = _long_stream(sizes.stream, snapshot=False)
    kept = _long_stream(sizes.stream, snapshot=True)
    for _ in range(sizes.rounds):
        without = timed(lambda: ledger.load(plain))
        with_snapshot = timed(lambda: ledger.load(kept))
        row.ratios.append(without / with_snapshot)
        row.detail = f"{with_snapshot * 1000:,.1f} ms vs {without * 1000:,.0f} ms without"


def api_load(row: Row, sizes: Sizes, reads: Row) -> None:
    user, accounts_used = api.prepare(clients=4)
    with api.Server() as server:
        for _ in range(sizes.rounds):
            found = api.measure(server, accounts_used, max(0.3, sizes.seconds))
            row.ratios.append(found.deposits / found.trivial)
            reads.ratios.append(found.reads / found.trivial)
            detail = f"deposits {found.deposits:,.0f}/s, reads {found.reads:,.0f}/s, /healthz {found.trivial:,.0f}/s"
            row.detail = reads.detail = f"{detail} ({user}, 4 keep-alive clients)"


def lag(row: Row, sizes: Sizes, extras: dict[str, Any]) -> None:
    seconds = LAG_SECONDS[sizes.seconds < 1]
    found: dict[int, list[Lag]] = {100: [], 500: []}
    with Workers(1):
        for _ in range(sizes.rounds):
            for rate_asked in found:
                found[rate_asked].append(measure_lag(rate_asked, seconds))
    row.ratios = [lag.p95 for lag in found[100]]
    extras["lag"] = {str(asked): [asdict(run) for run in runs] for asked, runs in found.items()}
    row.detail = "; ".join(
        f"{asked}/s asked, {statistics.median(m.achieved for m in runs):,.0f}/s done: p50"
        f" {statistics.median(m.p50 for m in runs):,.0f} ms, p95 {statistics.median(m.p95 for m in runs):,.0f} ms,"
        f" p99 {statistics.median(m.p99 for m in runs):,.0f} ms"
        for asked, runs in found.items()
    )


def fill_to(events: int) -> None:
    """Grow the log to at least `events` events: accounts of 1,000 events each, 1,000 per commit."""
    while (have := ledger.event_count()) < events:
        ledger.append_batch(ledger.new_account(), 1, min(1000, max(2, events - have)))


def rebuild(row: Row, sizes: Sizes, url: str, peaks: dict[int, int]) -> None:
    """At the size B10 left the log: the log's events per second of a rebuild of every projector (the time to
    rebuild them all, side by side from one read of the log) against a raw read of the log in position order."""
    if not peaks:  # B10 did not run (--only B7): grow the log here
        growth(Row("B10", "", "", 0), sizes, peaks)
    total = ledger.event_count()
    for _ in range(sizes.rounds):
        began = time.perf_counter()
        projectors = ledger.rebuild_all()
        ours = time.perf_counter() - began
        base = timed(partial(raw.read_all, url))
        row.ratios.append((total / ours) / (total / base))
        row.detail = (
            f"{total / ours:,.0f} vs {total / base:,.0f} events/s over {total:,} events ({projectors} projectors"
            " from one read of the log)"
        )
    small, large = sorted(peaks)[-2:]
    row.detail += f"; peak memory at {large:,} {peaks[large] / peaks[small]:.2f}x that at {small:,} (target <= 1.2)"


def growth(row: Row, sizes: Sizes, peaks: dict[int, int]) -> None:
    """Grow the log through each size; at each, the cost of an append and of loading a 1,000-event stream (and,
    at the two largest, a rebuild's peak memory, for B7)."""
    costs: dict[int, tuple[float, float]] = {}
    for size in sizes.table:
        fill_to(size)
        account = _long_stream(1000, snapshot=False)
        writers = Writers(1)
        appends = statistics.median(1 / rate(partial(_append, writers), sizes.seconds) for _ in range(sizes.rounds))
        loads = statistics.median(timed(partial(ledger.load, account)) for _ in range(sizes.rounds))
        costs[size] = (appends, loads)
        if size in sizes.table[-2:]:
            ledger.rebuild_all()
            peaks[size] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    small, large = sizes.table[0], sizes.table[-1]
    append_ratio, load_ratio = (costs[large][i] / costs[small][i] for i in (0, 1))
    row.ratios = [max(append_ratio, load_ratio)]
    row.detail = f"append {append_ratio:.2f}x, load of 1,000 events {load_ratio:.2f}x, at {large:,} vs {small:,} events"


if __name__ == "__main__":
    main()
