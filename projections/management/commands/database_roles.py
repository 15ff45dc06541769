"""`manage.py database_roles`: create or correct the least-privilege roles of this database.

Run it as an admin (a superuser, or a role with CREATEROLE that owns the database), after `migrate` (and before
it too, on a database whose objects an admin owns). Passwords come from LEDGER_DB_PASSWORD_OWNER, _WEB and
_WORKER; a role whose variable is unset keeps the password it has. Idempotent. Exits 1, storing nothing, when
the connected user may not create roles. See eventstore/database_roles.py and docs/security.md.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from eventstore import database_roles
from projections.registry import PROJECTORS


class Command(BaseCommand):
    help = "Create or correct the owner, web, worker and read-model roles of this database (run as an admin)."

    def handle(self, *args: Any, **options: Any) -> None:
        passwords = {
            kind: os.environ[f"LEDGER_DB_PASSWORD_{kind.upper()}"]
            for kind in ("owner", "web", "worker")
            if os.environ.get(f"LEDGER_DB_PASSWORD_{kind.upper()}")
        }
        tables = [table for projector in PROJECTORS.values() for table in projector.tables]
        with transaction.atomic(), connection.cursor() as cursor:
            if not database_roles.may_create_roles(cursor):
                raise CommandError(f"{connection.settings_dict['USER']} may not create roles: connect as a superuser")
            roles = database_roles.ensure(cursor, connection.settings_dict["NAME"], passwords, tables)
        if options["verbosity"]:
            self.stdout.write(
                f"database roles of {connection.settings_dict['NAME']}: owner {roles.owner}, web {roles.web},"
                f" worker {roles.worker}, read models {roles.projections}"
            )
