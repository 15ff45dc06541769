"""Least-privilege PostgreSQL roles for one database (docs/security.md, "Database roles").

For a database named D (`make run` sets this up; in production run `manage.py database_roles` as an admin):

- `D_owner` owns the database and every schema object; migrations and `import_events` run as it.
- `D_projections` (no login) owns the read-model tables, so the tables a rebuild swaps in keep their owner and,
  through default privileges, their grants (`projections.operations` creates them as this role).
- `D_web` and `D_worker` run the web server and the projection workers. They read `events` and append only
  through `events_append` (SECURITY DEFINER, owned by `D_owner`: the one writer of events and snapshots), read
  `snapshots` and `events_clock`, and own nothing of the store: UPDATE, DELETE, TRUNCATE, ALTER and DISABLE
  TRIGGER on `events` are refused. `D_worker` is a member of `D_projections`, because it rebuilds read models.

Every function here is idempotent: run it at each start; it creates what is missing and corrects what drifted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

# Written only through events_append; the app roles may read them.
STORE_TABLES = ("events", "snapshots", "events_clock")
APPEND_FUNCTION = "events_append"


@dataclass(frozen=True)
class Roles:
    owner: str
    projections: str
    web: str
    worker: str

    @property
    def logins(self) -> dict[str, str]:
        return {"owner": self.owner, "web": self.web, "worker": self.worker}


def roles_for(database: str) -> Roles:
    """The role names for `database` (per database, so two databases of one server never share a password)."""
    prefix = re.sub(r"[^a-z0-9_]", "_", database.lower())[:40]
    return Roles(f"{prefix}_owner", f"{prefix}_projections", f"{prefix}_web", f"{prefix}_worker")


def database_of(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def url_as(url: str, user: str, password: str) -> str:
    """`url` with its user and password replaced (host, port, database and options kept)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"))


def may_create_roles(cursor: Any) -> bool:
    cursor.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
    return bool(cursor.fetchone()[0])


def ensure(cursor: Any, database: str, passwords: dict[str, str], projector_tables: Iterable[str]) -> Roles:
    """Create the roles of `database` (passwords keyed owner/web/worker), hand every object to its owner and
    grant the app roles what they need and nothing more. Needs a superuser (or CREATEROLE and ownership)."""
    roles = roles_for(database)
    _create(cursor, roles, passwords)
    _own(cursor, database, roles, set(projector_tables))
    _grant(cursor, roles)
    return roles


def _create(cursor: Any, roles: Roles, passwords: dict[str, str]) -> None:
    for kind, name in [*roles.logins.items(), ("projections", roles.projections)]:
        login = "NOLOGIN" if name == roles.projections else "LOGIN"
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
        verb = "ALTER" if cursor.fetchone() else "CREATE"
        cursor.execute(f'{verb} ROLE "{name}" {login} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS')
        if kind in passwords:
            # ALTER ROLE takes no bind parameters; the password is quoted by the server's own quote_literal.
            cursor.execute("SELECT quote_literal(%s)", [passwords[kind]])
            cursor.execute(f'ALTER ROLE "{name}" PASSWORD {cursor.fetchone()[0]}')
    for member in (roles.owner, roles.worker):
        cursor.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [member, roles.projections])
        if not cursor.fetchone()[0]:  # granting it again would only raise a notice
            cursor.execute(f'GRANT "{roles.projections}" TO "{member}"')


def _own(cursor: Any, database: str, roles: Roles, projector_tables: set[str]) -> None:
    cursor.execute(f'ALTER DATABASE "{database}" OWNER TO "{roles.owner}"')
    cursor.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    cursor.execute(f'GRANT USAGE, CREATE ON SCHEMA public TO "{roles.owner}", "{roles.projections}"')
    cursor.execute(f'GRANT USAGE ON SCHEMA public TO "{roles.web}", "{roles.worker}"')
    # Tables, views and sequences not owned by a table (those follow their table), then functions.
    cursor.execute(
        "SELECT c.relname, c.relkind, pg_get_userbyid(c.relowner) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'S', 'p')"
        " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))"
    )
    for name, kind, current in cursor.fetchall():
        wanted = roles.projections if name.removesuffix("__shadow") in projector_tables else roles.owner
        if current != wanted:
            what = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "S": "SEQUENCE"}[kind]
            cursor.execute(f'ALTER {what} "{name}" OWNER TO "{wanted}"')
    cursor.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = 'public' AND p.prokind = 'f' AND pg_get_userbyid(p.proowner) <> %s"
        " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')",
        [roles.owner],
    )
    for (signature,) in cursor.fetchall():
        cursor.execute(f'ALTER FUNCTION {signature} OWNER TO "{roles.owner}"')


def _grant(cursor: Any, roles: Roles) -> None:
    apps = f'"{roles.web}", "{roles.worker}"'
    cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {apps}")
    cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {apps}")
    for creator in (roles.owner, roles.projections):  # tables made later (a migration, a rebuild) get the same
        default = f'ALTER DEFAULT PRIVILEGES FOR ROLE "{creator}" IN SCHEMA public GRANT'
        cursor.execute(f"{default} SELECT, INSERT, UPDATE, DELETE ON TABLES TO {apps}")
        cursor.execute(f"{default} USAGE, SELECT ON SEQUENCES TO {apps}")
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relname = ANY(%s)",
        [list(STORE_TABLES)],
    )
    for (table,) in cursor.fetchall():
        cursor.execute(f'REVOKE ALL ON TABLE "{table}" FROM PUBLIC, {apps}, "{roles.projections}"')
        cursor.execute(f'GRANT SELECT ON TABLE "{table}" TO {apps}')
    cursor.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = 'public' AND p.proname = %s",
        [APPEND_FUNCTION],
    )
    for (signature,) in cursor.fetchall():
        cursor.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        cursor.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {apps}")


def role_urls(admin_url: str, passwords: dict[str, str]) -> dict[str, str]:
    """{owner, web, worker: the URL connecting as that role of admin_url's database}."""
    roles = roles_for(database_of(admin_url)).logins
    return {kind: url_as(admin_url, name, passwords[kind]) for kind, name in roles.items()}


def masked(url: str) -> str:
    """`url` with its password hidden, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{userinfo.split(':', 1)[0]}:***@{host}"))
