"""The least-privilege roles of eventstore.database_roles, set up as `make run` sets them up.

Each application role connects for real and is refused every change to the store; it appends through
events_append (which alone writes events and snapshots); a rebuild run as the worker keeps owners and grants.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from psycopg import errors

from eventstore import database_roles, store
from eventstore.database_roles import Roles
from eventstore.records import SnapshotState
from projections.registry import PROJECTORS
from tests.eventstore.toy import STATE_SCHEMA, Tally, ToyCredited
from tests.launch import ROOT

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
PASSWORDS = {kind: secrets.token_urlsafe(12) for kind in ("owner", "web", "worker")}
TABLES = [table for projector in PROJECTORS.values() for table in projector.tables]

REFUSED = [
    "UPDATE events SET type = 'x'",
    "DELETE FROM events",
    "TRUNCATE events",
    "ALTER TABLE events DISABLE TRIGGER USER",
    "ALTER TABLE events DISABLE TRIGGER ALL",
    "ALTER TABLE events ADD COLUMN note text",
    "DROP TABLE events",
    "INSERT INTO events (position, stream_id, version, type, schema_version, data, metadata, recorded_at, hash)"
    " VALUES (1, 'forged', 1, 'T', 1, '{}', '{}', now(), 'x')",
    "UPDATE snapshots SET version = version + 7",
    "INSERT INTO snapshots (stream_id, version, state_schema, state, digest, created_at)"
    " VALUES ('forged', 1, 1, '{}', repeat('0', 64), now())",
    "DELETE FROM snapshots",
    "UPDATE events_clock SET xid_offset = 5",
    "ALTER FUNCTION events_append(text[], integer[], integer[], text[], smallint[], jsonb[], bytea[], jsonb,"
    " jsonb[], smallint[]) SECURITY INVOKER",
]


# `manage.py rebuild_projections --all`, in a process that also knows the toy events other tests appended.
REBUILD = (
    "import django; django.setup(); import tests.eventstore.toy;"
    " from django.core.management import call_command; call_command('rebuild_projections', '--all')"
)


def database_url(user: str, password: str) -> str:
    db = settings.DATABASES["default"]
    host = quote(db["HOST"] or "localhost", safe="")
    return f"postgresql://{user}:{quote(password, safe='')}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def roles() -> Iterator[Roles]:
    """The roles of the test database, as `manage.py database_roles` makes them; afterwards the superuser owns
    everything again and the roles are gone (they are server-wide)."""
    with connection.cursor() as cursor:
        made = database_roles.ensure(cursor, connection.settings_dict["NAME"], PASSWORDS, TABLES)
    yield made
    everyone = ", ".join(f'"{name}"' for name in (made.owner, made.projections, made.web, made.worker))
    with connection.cursor() as cursor:
        cursor.execute(f"REASSIGN OWNED BY {everyone} TO CURRENT_USER")
        for name in (made.web, made.worker, made.owner, made.projections):  # one at a time: all at once trips
            cursor.execute(f'DROP OWNED BY "{name}"')  # over default privileges naming two of them
        cursor.execute(f"DROP ROLE {everyone}")


def connect(roles: Roles, kind: str) -> psycopg.Connection:
    return psycopg.connect(database_url(roles.logins[kind], PASSWORDS[kind]), autocommit=True)


@pytest.mark.parametrize("kind", ["web", "worker"])
def test_an_application_role_is_refused_every_change_to_the_store(roles, kind, stream_id):
    store.append(stream_id, [ToyCredited(amount=5)], expected_version=0)
    refused = []
    with connect(roles, kind) as conn:
        assert conn.execute("SELECT count(*) FROM events WHERE stream_id = %s", [stream_id]).fetchone() == (1,)
        for statement in REFUSED:
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)
            refused.append(statement)
    assert refused == REFUSED
    assert store.load(stream_id).version == 1


def test_the_application_roles_own_nothing_and_hold_no_power(roles):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname IN (%s, %s)",
            [roles.web, roles.worker],
        )
        assert cursor.fetchone() == (0,)
        cursor.execute(
            "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles"
            " WHERE rolname IN (%s, %s, %s) ORDER BY rolname",
            [roles.owner, roles.web, roles.worker],
        )
        assert [row[1:] for row in cursor.fetchall()] == [(False, False, False, False)] * 3
        cursor.execute(
            "SELECT pg_has_role(%s, %s, 'MEMBER'), pg_has_role(%s, %s, 'MEMBER')",
            [
                roles.web,
                roles.owner,
                roles.worker,
                roles.owner,
            ],
        )
        assert cursor.fetchone() == (False, False)
        cursor.execute("SELECT relname, pg_get_userbyid(relowner) FROM pg_class WHERE relname = ANY(%s)", [TABLES])
        assert dict(cursor.fetchall()) == dict.fromkeys(TABLES, roles.projections)


def test_the_web_role_appends_and_its_snapshots_are_written_for_it(roles, stream_id, settings):
    """The web role may not INSERT snapshots; the append function (SECURITY DEFINER) keeps them anyway."""
    settings.LEDGER_SNAPSHOT_EVERY = 1
    with connection.cursor() as cursor:
        cursor.execute(f'SET ROLE "{roles.web}"')  # the role's own privileges, nothing of the superuser's
    try:
        snapshot = SnapshotState(Tally(balance=5, count=1), STATE_SCHEMA)
        store.append(stream_id, [ToyCredited(amount=5)], expected_version=0, snapshot=snapshot)
        loaded = store.load(stream_id, snapshot_schema=STATE_SCHEMA)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert (loaded.version, loaded.snapshot is not None, loaded.events) == (1, True, [])


def test_a_rebuild_run_as_the_worker_keeps_every_owner_and_grant(roles, stream_id):
    store.append(stream_id, [ToyCredited(amount=5)], expected_version=0)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": database_url(roles.worker, PASSWORDS["worker"]),
        "REDIS_URL": os.environ.get("REDIS_URL") or settings.REDIS_URL,
    }
    done = subprocess.run([sys.executable, "-c", REBUILD], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "rebuilt" in done.stdout
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_get_userbyid(relowner), has_table_privilege(%s, oid, 'SELECT, UPDATE')"
            " FROM pg_class WHERE relname = ANY(%s)",
            [roles.web, TABLES],
        )
        assert {row[0]: row[1:] for row in cursor.fetchall()} == dict.fromkeys(TABLES, (roles.projections, True))
    with connect(roles, "web") as conn:
        for table in TABLES:
            conn.execute(f'SELECT count(*) FROM "{table}"')
