from __future__ import annotations

from django.db import migrations, models

# The global order, settled (docs/architecture.md, "Reader contract"):
#
#   position = writing transaction's id * 2^20 + the event's index within that transaction
#
# so reader order (position order, below the horizon of running transactions) is transaction order, and one
# number is a complete checkpoint. `events_append` refuses, as a stale transaction, an append whose
# transaction is older than the one that wrote a stream's head, so each stream's versions also follow
# transaction order. The old layout (identity positions, a separate transaction_id column read in
# (transaction_id, position) order) broke per-stream order; its rows cannot be renumbered in place (events
# are immutable), so a database that already holds events must be recreated (docs/operations.md).
REFUSE_OLD_DATA = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM events) THEN
        RAISE EXCEPTION 'this database holds events written before the global-order fix (eventstore 0003):'
            ' recreate it (for make run: stop it, delete .run/pgdata, run it again; see docs/operations.md)'
            USING HINT = 'Recreate it: stop `make run`, delete .run/pgdata (or drop the database), run `make run`'
                         ' again. See docs/operations.md, "Upgrading a development database".';
    END IF;
END $$;
DELETE FROM snapshots;
"""

RESTRUCTURE = r"""
DROP FUNCTION events_append(text[], integer[], integer[], text[], smallint[], jsonb[], bytea[], jsonb, jsonb[], smallint[]);
ALTER TABLE events ALTER COLUMN position DROP IDENTITY;
ALTER TABLE events DROP COLUMN transaction_id;  -- and its index: the position now says it all

-- The first position no reader may pass yet: every event below it was written by a transaction that has
-- ended (committed or rolled back), so nothing can ever appear below it again. A transaction that is itself
-- the oldest one running may also read its own events (nothing older can commit before them).
CREATE FUNCTION events_horizon() RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (oldest + CASE WHEN pg_current_xact_id_if_assigned()::text::bigint = oldest THEN 1 ELSE 0 END) * 1048576
    FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS oldest) AS horizon
$$;

CREATE FUNCTION snapshots_reject_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'snapshots are written once by events_append and never changed (delete one to drop it)'
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER snapshots_no_update BEFORE UPDATE ON snapshots
    FOR EACH ROW EXECUTE FUNCTION snapshots_reject_update();

"""

EVENTS_APPEND = r"""
-- One round trip per append, whatever the number of streams and events:
-- 1. read every stream's head; a stream not at its expected version is a conflict ('version'), nothing written;
-- 2. only then take the transaction id (pg_current_xact_id assigns one if the transaction has none yet, and
--    that one is newer than every committed head). A transaction that already had an id older than a head's
--    writer is refused ('stale'): readers order by transaction, so appending would put this stream's new
--    version before its previous one. The caller rolls back and runs the command again in a new transaction;
-- 3. insert with positions xid * 2^20 + n, n counting on from this transaction's earlier events (if it had
--    written before: one index probe); chain the
--    hashes; keep due snapshots with a digest that binds the state to its event's hash.
-- A writer that loses the race on UNIQUE (stream_id, version) (or waits past lock_timeout for it) is caught
-- in the block's own subtransaction: a 'version' conflict, and the caller's transaction stays usable.
CREATE FUNCTION events_append(
    p_streams text[], p_expected integer[], p_counts integer[],
    p_types text[], p_schema_versions smallint[], p_data jsonb[], p_bodies bytea[], p_metadata jsonb,
    p_snapshots jsonb[], p_snapshot_schemas smallint[]
) RETURNS TABLE (
    out_stream_id text, out_version integer, out_position bigint, out_recorded_at timestamptz, out_conflict text
) LANGUAGE plpgsql AS $$
DECLARE
    now_ts timestamptz := statement_timestamp();
    now_text bytea := convert_to(
        '@' || to_char(statement_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00', 'UTF8');
    slots constant bigint := 1048576;  -- 2^20 positions per transaction
    heads text[] := '{}';
    versions integer[] := '{}';
    positions bigint[] := '{}';
    head_version integer;
    head_hash text;
    head_position bigint;
    newest_stream text;
    newest_position bigint := -1;
    had_id boolean := pg_current_xact_id_if_assigned() IS NOT NULL;  -- has this transaction written before?
    xid bigint;
    pos bigint;
    e integer := 0;
BEGIN
    FOR s IN 1 .. cardinality(p_streams) LOOP
        SELECT ev.version, ev.hash, ev.position INTO head_version, head_hash, head_position
            FROM events ev WHERE ev.stream_id = p_streams[s] ORDER BY ev.version DESC LIMIT 1;
        IF coalesce(head_version, 0) <> p_expected[s] THEN
            RETURN QUERY SELECT p_streams[s], coalesce(head_version, 0), NULL::bigint, now_ts, 'version'::text;
            RETURN;
        END IF;
        heads := heads || coalesce(head_hash, '');
        IF coalesce(head_position, -1) > newest_position THEN
            newest_position := head_position;
            newest_stream := p_streams[s];
        END IF;
    END LOOP;
    xid := pg_current_xact_id()::text::bigint;
    IF xid >= 8796093022208 THEN  -- 2^43: position would overflow bigint
        RAISE EXCEPTION 'transaction id % is beyond the range positions can encode', xid;
    END IF;
    IF newest_position >= 0 AND newest_position / slots > xid THEN
        RETURN QUERY SELECT newest_stream, p_expected[array_position(p_streams, newest_stream)], NULL::bigint,
                            now_ts, 'stale'::text;
        RETURN;
    END IF;
    pos := xid * slots;
    IF had_id THEN  -- it may have appended already: go on after its last event
        SELECT coalesce(max(ev.position) + 1, pos) INTO pos
            FROM events ev WHERE ev.position >= xid * slots AND ev.position < (xid + 1) * slots;
    END IF;
    IF pos + cardinality(p_types) > (xid + 1) * slots THEN
        RAISE EXCEPTION 'more than % events in one transaction', slots - 1;
    END IF;
    BEGIN
        FOR s IN 1 .. cardinality(p_streams) LOOP
            head_hash := heads[s];
            FOR i IN 1 .. p_counts[s] LOOP
                e := e + 1;
                head_hash := encode(sha256(convert_to(head_hash, 'UTF8') || p_bodies[e] || now_text), 'hex');
                INSERT INTO events (position, stream_id, version, type, schema_version, data, metadata, recorded_at, hash)
                    VALUES (pos, p_streams[s], p_expected[s] + i, p_types[e], p_schema_versions[e], p_data[e],
                            p_metadata, now_ts, head_hash);
                pos := pos + 1;
            END LOOP;
            IF p_snapshots[s] IS NOT NULL THEN
                INSERT INTO snapshots (stream_id, version, state_schema, state, digest, created_at)
                    VALUES (p_streams[s], p_expected[s] + p_counts[s], p_snapshot_schemas[s], p_snapshots[s],
                            snapshot_digest(head_hash, p_snapshot_schemas[s], p_snapshots[s]), now_ts)
                    ON CONFLICT DO NOTHING;
            END IF;
            versions := versions || (p_expected[s] + p_counts[s]);
            positions := positions || (pos - 1);
        END LOOP;
    EXCEPTION WHEN unique_violation OR lock_not_available THEN
        -- Another writer took one of these versions first; this block's inserts are rolled back.
        FOR s IN 1 .. cardinality(p_streams) LOOP
            SELECT ev.version INTO head_version
                FROM events ev WHERE ev.stream_id = p_streams[s] ORDER BY ev.version DESC LIMIT 1;
            IF coalesce(head_version, 0) <> p_expected[s] THEN
                RETURN QUERY SELECT p_streams[s], coalesce(head_version, 0), NULL::bigint, now_ts, 'version'::text;
                RETURN;
            END IF;
        END LOOP;
        -- The winner has not committed yet (we gave up waiting for it): it will be one version ahead.
        RETURN QUERY SELECT p_streams[1], p_expected[1] + 1, NULL::bigint, now_ts, 'version'::text;
        RETURN;
    END;
    RETURN QUERY SELECT p_streams[s], versions[s], positions[s], now_ts, NULL::text
        FROM generate_subscripts(p_streams, 1) AS s;
END;
$$;
"""

# A snapshot's digest binds its state to the hash of the event at its version: a snapshot moved to another
# version or stream, or whose state was edited, no longer matches, and `load` ignores it.
SNAPSHOT_DIGEST = """
CREATE FUNCTION snapshot_digest(event_hash text, state_schema integer, state jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT encode(sha256(convert_to(event_hash || ':' || state_schema || ':' || state::text, 'UTF8')), 'hex')
$$;
ALTER TABLE snapshots ADD COLUMN digest char(64) NOT NULL;
"""


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0002_events_append")]

    operations = [
        migrations.RunSQL(REFUSE_OLD_DATA, migrations.RunSQL.noop),
        migrations.RunSQL(
            SNAPSHOT_DIGEST,
            "ALTER TABLE snapshots DROP COLUMN digest; DROP FUNCTION snapshot_digest(text, integer, jsonb);",
            state_operations=[
                migrations.AddField(
                    model_name="snapshot",
                    name="digest",
                    field=models.CharField(max_length=64, default=""),
                    preserve_default=False,
                )
            ],
        ),
        migrations.RunSQL(
            RESTRUCTURE + EVENTS_APPEND,
            state_operations=[
                migrations.RemoveField(model_name="event", name="transaction_id"),
                migrations.AlterField(
                    model_name="event",
                    name="position",
                    field=models.BigIntegerField(primary_key=True, serialize=False),
                ),
            ],
        ),
    ]
