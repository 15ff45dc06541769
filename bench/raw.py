"""The baselines: plain psycopg 3 on a table shaped like `events`, with none of the store's work.

Each function does what the matching Ledger measurement does, as cheaply as PostgreSQL allows: one INSERT
per commit (autocommit), a batch by executemany or COPY, a read of everything in position order, and a read
and fold of one stream. They share no code with the store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

TABLE = "bench_raw_events"
_COLUMNS = "stream_id, version, type, schema_version, data, metadata, hash"
_INSERT = f"INSERT INTO {TABLE} ({_COLUMNS}) VALUES (%s, %s, 'FundsDeposited', 1, %s, '{{}}', %s)"
_HASH = "0" * 64


def open_connection(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


@contextmanager
def connect(url: str) -> Iterator[psycopg.Connection]:
    with open_connection(url) as conn:
        yield conn


def create_table(url: str) -> None:
    with connect(url) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.execute(
            f"CREATE TABLE {TABLE} (position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " stream_id text NOT NULL, version integer NOT NULL, type text NOT NULL,"
            " schema_version smallint NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL,"
            " recorded_at timestamptz NOT NULL DEFAULT statement_timestamp(), hash char(64) NOT NULL,"
            " UNIQUE (stream_id, version))"
        )


def payload(stream: str, amount: int = 100) -> str:
    return json.dumps({"account_id": stream, "amount": amount, "currency": "EUR", "reference": ""})


def insert_one(conn: psycopg.Connection, stream: str, version: int) -> None:
    """One event, one commit (autocommit): the floor of any append."""
    conn.execute(_INSERT, (stream, version, payload(stream), _HASH), prepare=True)


def insert_many(conn: psycopg.Connection, stream: str, first_version: int, count: int) -> None:
    """`count` events in one transaction with executemany."""
    rows = [(stream, first_version + n, payload(stream), _HASH) for n in range(count)]
    with conn.transaction(), conn.cursor() as cursor:
        cursor.executemany(_INSERT, rows)


def copy_many(conn: psycopg.Connection, stream: str, first_version: int, count: int) -> None:
    """`count` events in one transaction with COPY."""
    with (
        conn.transaction(),
        conn.cursor() as cursor,
        cursor.copy(
            f"COPY {TABLE} (stream_id, version, type, schema_version, data, metadata, hash) FROM STDIN"
        ) as copy,
    ):
        for n in range(count):
            copy.write_row((stream, first_version + n, "FundsDeposited", 1, payload(stream), "{}", _HASH))


def read_all(url: str, table: str = "events", batch: int = 5000) -> int:
    """Every event in position order, in batches, each payload parsed: how a rebuild must read the log."""
    count, after = 0, -1
    with connect(url) as conn:
        while rows := conn.execute(
            f"SELECT position, stream_id, version, type, data::text, metadata::text FROM {table}"
            " WHERE position > %s ORDER BY position LIMIT %s",
            (after, batch),
        ).fetchall():
            for row in rows:
                json.loads(row[4])
                json.loads(row[5])
            count, after = count + len(rows), rows[-1][0]
    return count


def read_and_fold(url: str, stream: str, table: str = "events") -> int:
    """One stream by version, each payload parsed and folded into a balance: the least a load can do."""
    balance = 0
    with connect(url) as conn:
        rows = conn.execute(
            f"SELECT type, data::text FROM {table} WHERE stream_id = %s ORDER BY version", (stream,)
        ).fetchall()
    for type_, data in rows:
        event = json.loads(data)
        if type_ in {"FundsDeposited", "TransferReceived"}:
            balance += event["amount"]
        elif type_ in {"FundsWithdrawn", "TransferSent"}:
            balance -= event["amount"]
    return balance
