from __future__ import annotations

import io
import uuid

import psycopg
import pytest
from django.core.management import call_command
from django.test import Client
from hypothesis import settings as hypothesis_settings

from tests.api_client import PASSWORD, Api, login

# Property tests and the fuzzing are part of CI: the same examples every run (a fixed seed), within a budget.
hypothesis_settings.register_profile("ledger", derandomize=True, deadline=None, print_blob=True)
hypothesis_settings.load_profile("ledger")


@pytest.fixture
def stream_id() -> str:
    """A stream no other test touches: events are append-only, so tests share the table, never a stream."""
    return f"test-{uuid.uuid4()}"


@pytest.fixture
def users(db):
    call_command("demo_data", password=PASSWORD, stdout=io.StringIO())


@pytest.fixture
def teller(users) -> Api:
    return login("teller")


@pytest.fixture
def alice(users) -> Api:
    return login("alice")


@pytest.fixture
def bob(users) -> Api:
    return login("bob")


@pytest.fixture
def auditor(users) -> Api:
    return login("auditor")


@pytest.fixture
def anonymous(db) -> Api:
    return Api(Client(), None)


@pytest.fixture
def run_dir(tmp_path):
    """A run directory of its own; whatever a failed test left running in it is stopped afterwards."""
    from config.leftovers import stop_leftovers

    yield tmp_path / "run"
    stop_leftovers(tmp_path / "run")


@pytest.fixture
def empty_database():
    """A new, empty (not migrated) database on the test server, as a URL; dropped afterwards."""
    from tests.projections.workers import database_url

    source = database_url()
    name = f"ledger_scratch_{uuid.uuid4().hex[:12]}"
    admin = source.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield source.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
