from __future__ import annotations

from django.db import migrations

# events_append runs with its owner's rights (SECURITY DEFINER), so it is the one writer of `events` and
# `snapshots`: the application's roles need EXECUTE on it and SELECT on the tables, never INSERT or UPDATE
# (eventstore/database_roles.py grants exactly that). A fixed search_path keeps a caller's objects out of it.
SIGNATURE = (
    "events_append(text[], integer[], integer[], text[], smallint[], jsonb[], bytea[], jsonb, jsonb[], smallint[])"
)


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0004_position_offset")]

    operations = [
        migrations.RunSQL(
            f"ALTER FUNCTION {SIGNATURE} SECURITY DEFINER SET search_path = public, pg_temp;"
            f" REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC;",
            f"ALTER FUNCTION {SIGNATURE} SECURITY INVOKER RESET search_path;"
            f" GRANT EXECUTE ON FUNCTION {SIGNATURE} TO PUBLIC;",
        )
    ]
