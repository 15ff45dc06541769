from __future__ import annotations

import importlib

from django.db import migrations

# Positions are (transaction id + offset) * 2^20 + n. The offset is 0 until `manage.py import_events` loads a
# log into an empty store: it then sets the offset once, so that every transaction of this database comes
# after every imported position (a fresh database's transaction ids are far below those of the source).
# Readers' horizon and the stale-append check use the same offset, so the order holds across the import.
CREATE = r"""
CREATE TABLE events_clock (
    id integer PRIMARY KEY CHECK (id = 1),
    xid_offset bigint NOT NULL CHECK (xid_offset >= 0)
);
INSERT INTO events_clock VALUES (1, 0);

CREATE FUNCTION events_clock_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR EXISTS (SELECT 1 FROM events) THEN
        RAISE EXCEPTION 'the position offset is set once, by import_events into an empty store'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER events_clock_once BEFORE UPDATE OR DELETE ON events_clock
    FOR EACH ROW EXECUTE FUNCTION events_clock_reject_change();
CREATE TRIGGER events_clock_no_truncate BEFORE TRUNCATE ON events_clock
    FOR EACH STATEMENT EXECUTE FUNCTION events_clock_reject_change();

-- This transaction's id on the positions' scale (assigning one if it has none).
CREATE FUNCTION events_xid() RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT pg_current_xact_id()::text::bigint + (SELECT xid_offset FROM events_clock WHERE id = 1)
$$;

CREATE OR REPLACE FUNCTION events_horizon() RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (oldest + CASE WHEN pg_current_xact_id_if_assigned()::text::bigint = oldest THEN 1 ELSE 0 END
            + (SELECT xid_offset FROM events_clock WHERE id = 1)) * 1048576
    FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS oldest) AS horizon
$$;
"""

# events_append of migration 0003 with one change: the transaction id on the positions' scale (events_xid).
APPEND_FROM = "    xid := pg_current_xact_id()::text::bigint;\n"
APPEND_TO = "    xid := events_xid();\n"

DROP = """
DROP FUNCTION events_xid();
DROP TABLE events_clock;
DROP FUNCTION events_clock_reject_change();
"""


def append_function() -> str:
    source = importlib.import_module("eventstore.migrations.0003_global_order").EVENTS_APPEND
    assert APPEND_FROM in source
    return source.replace("CREATE FUNCTION events_append(", "CREATE OR REPLACE FUNCTION events_append(").replace(
        APPEND_FROM, APPEND_TO
    )


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0003_global_order")]

    operations = [migrations.RunSQL(CREATE, DROP), migrations.RunSQL(append_function())]
