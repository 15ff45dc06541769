"""B2, B3, B5 done by the eventsourcing library (its defaults, PostgreSQL): the other Python event store the
issue compares against. It shares no code with Ledger or with bench/raw.py.

The library's settings go in through the Application's `env=` (never os.environ, and os.environ is not read
either, so nothing leaks in or out): PostgreSQL persistence, the connection and the schema `bench_library`.
Everything else is the library's default: no snapshots, no aggregate cache, a pool of 5 connections (+10
overflow), which is more than B3's 4 threads need, and its application recorder, which takes an EXCLUSIVE lock
on the events table for each write (so that notification ids come in commit order).
"""

from __future__ import annotations

import uuid

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import Environment, EnvType
from psycopg.conninfo import conninfo_to_dict

SCHEMA = "bench_library"
BATCH = 1000  # events per save when long_account() writes its history


class Account(Aggregate):
    @event("Opened")
    def __init__(self, holder_name: str, currency: str) -> None:
        self.holder_name = holder_name
        self.currency = currency
        self.balance = 0

    @event("Deposited")
    def deposit(self, amount: int) -> None:
        self.balance += amount


class Bank(Application[uuid.UUID]):
    """Reads its settings from `env=` alone: the library's defaults apart from what Library passes."""

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        return Environment(name, {**type(self).env, **(env or {})})


class Library:
    """One eventsourcing Application on the database at `url` (a postgresql:// URL), its tables in a schema of
    their own, `bench_library` (created if missing; dropped and re-created by reset()). Thread-safe: the
    Application's pool gives each thread its own connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        # libpq's own parsing: a socket directory as host (the embedded server's URL) comes out right.
        parts = conninfo_to_dict(url)
        self.env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(parts.get("dbname", "postgres")),
            "POSTGRES_HOST": str(parts.get("host", "localhost")),
            "POSTGRES_PORT": str(parts.get("port", 5432)),
            "POSTGRES_USER": str(parts.get("user", "postgres")),
            "POSTGRES_PASSWORD": str(parts.get("password", "")),
            "POSTGRES_SCHEMA": SCHEMA,
        }
        self._schema(drop=False)
        self.app = Bank(env=self.env)

    def _schema(self, *, drop: bool) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            if drop:
                conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")

    def reset(self) -> None:
        """Empty the library's tables: drop the schema and re-create the app (which creates its tables)."""
        self.app.close()
        self._schema(drop=True)
        self.app = Bank(env=self.env)

    def open(self) -> uuid.UUID:
        account = Account("Ada Lovelace", "EUR")
        self.app.save(account)
        return account.id

    def deposit(self, account_id: uuid.UUID) -> None:
        """B2/B3: the full command path on one aggregate, one event per save."""
        account: Account = self.app.repository.get(account_id)
        account.deposit(100)
        self.app.save(account)

    def writer(self) -> Account:
        """B1/B3: an opened account kept in memory, to which append() adds one event per commit."""
        account = Account("Ada Lovelace", "EUR")
        self.app.save(account)
        return account

    def append(self, account: Account) -> None:
        """One event on an aggregate already in memory, saved in a commit of its own: the store's write alone."""
        account.deposit(100)
        self.app.save(account)

    def long_account(self, events: int) -> uuid.UUID:
        """An account with `events` events in all (1 opened + deposits), saved BATCH events at a time."""
        account = Account("Ada Lovelace", "EUR")
        for n in range(1, events):
            account.deposit(100)
            if n % BATCH == 0:
                self.app.save(account)
        self.app.save(account)
        return account.id

    def load(self, account_id: uuid.UUID) -> int:
        """B5: rebuild the aggregate from all its events (no snapshot); its balance."""
        account: Account = self.app.repository.get(account_id)
        return account.balance

    def close(self) -> None:
        self.app.close()
