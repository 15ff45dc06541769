"""Append throughput: the event store against raw INSERTs and a table-lock design, in the same run.

    make bench                         (fresh embedded PostgreSQL, or DATABASE_URL)
    python -m bench.append_throughput --seconds 3 --rounds 3 --writers 1 4

Each writer is a thread with its own connection that commits one event per transaction to streams of its
own (no conflicts), for a fixed time. Workloads alternate within every round so that machine noise hits them
alike; the reported figure is the median over rounds of each workload's events/s divided by the raw
baseline's in the same round.

- raw:        one INSERT (autocommit) into a table shaped like `events` (identity key, UNIQUE (stream,
              version)): the floor any append design is measured against
- ledger:     eventstore.store.append: one statement that checks the head, chains the hash and inserts
- raw_tx:     BEGIN; the raw INSERT; COMMIT
- table_lock: BEGIN; LOCK TABLE ... IN EXCLUSIVE MODE; the raw INSERT; COMMIT (how the eventsourcing library
              orders its log). table_lock / raw_tx is the cost of serialising writers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from eventstore import store  # noqa: E402
from eventstore.codec import codec  # noqa: E402

SHADOW_TABLES = ("bench_raw", "bench_locked")


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchDeposited:
    schema_version: ClassVar[int] = 1
    account_id: str
    amount: int


codec.register(BenchDeposited)


def create_tables() -> None:
    with connection.cursor() as cursor:
        for table in SHADOW_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(
                f"CREATE TABLE {table} (position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                " stream_id text NOT NULL, version integer NOT NULL, type text NOT NULL,"
                " schema_version smallint NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL,"
                " recorded_at timestamptz NOT NULL DEFAULT statement_timestamp(), hash char(64) NOT NULL,"
                " UNIQUE (stream_id, version))"
            )


def raw_insert(table: str, stream: str, version: int, lock: bool, in_transaction: bool = False) -> None:
    """The baseline: one INSERT in autocommit, one round trip (the lock variant needs a transaction)."""
    sql = (
        f"INSERT INTO {table} (stream_id, version, type, schema_version, data, metadata, hash)"
        " VALUES (%s, %s, 'BenchDeposited', 1, %s::jsonb, '{}'::jsonb, %s)"
    )
    params = (stream, version, json.dumps({"account_id": stream, "amount": 100}), "0" * 64)
    if not (lock or in_transaction):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        return
    with transaction.atomic(), connection.cursor() as cursor:
        if lock:
            cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        cursor.execute(sql, params)


def ledger_append(stream: str, version: int) -> None:
    store.append(stream, [BenchDeposited(account_id=stream, amount=100)], expected_version=version - 1)


WORKLOADS: dict[str, Callable[[str, int], None]] = {
    "raw": lambda stream, version: raw_insert("bench_raw", stream, version, lock=False),
    "ledger": ledger_append,
    "raw_tx": lambda stream, version: raw_insert("bench_raw", stream, version, lock=False, in_transaction=True),
    "table_lock": lambda stream, version: raw_insert("bench_locked", stream, version, lock=True),
}


def measure(workload: Callable[[str, int], None], writers: int, seconds: float) -> float:
    """Events per second committed by `writers` threads in `seconds`."""
    counts = [0] * writers
    start = threading.Barrier(writers + 1)
    stop_at: list[float] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            stream, version = f"bench-{uuid.uuid4()}", 0
            while time.monotonic() < stop_at[0]:
                version += 1
                if version > 50:  # a fresh stream now and then, as real accounts are many
                    stream, version = f"bench-{uuid.uuid4()}", 1
                workload(stream, version)
                counts[n] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    stop_at.append(time.monotonic() + seconds)
    began = time.monotonic()
    start.wait()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    create_tables()
    results = []
    for writers in args.writers:
        ratios: dict[str, list[float]] = {name: [] for name in WORKLOADS}
        rates: dict[str, list[float]] = {name: [] for name in WORKLOADS}
        for _ in range(args.rounds):
            round_rates = {name: measure(fn, writers, args.seconds) for name, fn in WORKLOADS.items()}
            for name, rate in round_rates.items():
                rates[name].append(rate)
                ratios[name].append(rate / round_rates["raw"])
        for name in WORKLOADS:
            results.append(
                {
                    "writers": writers,
                    "workload": name,
                    "events_per_s": round(statistics.median(rates[name])),
                    "ratio_vs_raw": round(statistics.median(ratios[name]), 2),
                }
            )
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print("| writers | workload | events/s (median) | ratio vs raw (median) |")
    print("|---:|---|---:|---:|")
    for row in results:
        print(f"| {row['writers']} | {row['workload']} | {row['events_per_s']} | {row['ratio_vs_raw']:.2f}x |")


if __name__ == "__main__":
    main()
