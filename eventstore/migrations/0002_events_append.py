from __future__ import annotations

from django.db import migrations

# One round trip per append, whatever the number of streams and events: check every stream's head, chain
# the hashes, insert, keep due snapshots. A stream not at its expected version makes the function return a
# conflict row and write nothing; a writer that loses the race on UNIQUE (stream_id, version) (or waits past
# lock_timeout for it) is caught in the function's own subtransaction, so the caller's transaction stays
# usable without a client-side savepoint. The hash covers the previous hash, the event's canonical bytes
# (made by eventstore/hashchain.py) and `recorded_at` formatted exactly as hashchain.py formats it.
CREATE_FUNCTION = r"""
CREATE FUNCTION events_append(
    p_streams text[], p_expected integer[], p_counts integer[],
    p_types text[], p_schema_versions smallint[], p_data jsonb[], p_bodies bytea[], p_metadata jsonb,
    p_snapshots jsonb[], p_snapshot_schemas smallint[]
) RETURNS TABLE (
    out_stream_id text, out_version integer, out_position bigint, out_transaction_id bigint,
    out_recorded_at timestamptz, out_conflict boolean
) LANGUAGE plpgsql AS $$
DECLARE
    now_ts timestamptz := statement_timestamp();
    now_text bytea := convert_to(
        '@' || to_char(statement_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00', 'UTF8');
    heads text[] := '{}';
    versions integer[] := '{}';
    positions bigint[] := '{}';
    head_version integer;
    head_hash text;
    xid bigint;
    pos bigint;
    e integer := 0;
BEGIN
    FOR s IN 1 .. cardinality(p_streams) LOOP
        SELECT ev.version, ev.hash INTO head_version, head_hash
            FROM events ev WHERE ev.stream_id = p_streams[s] ORDER BY ev.version DESC LIMIT 1;
        IF coalesce(head_version, 0) <> p_expected[s] THEN
            RETURN QUERY SELECT p_streams[s], coalesce(head_version, 0), NULL::bigint, NULL::bigint, now_ts, true;
            RETURN;
        END IF;
        heads := heads || coalesce(head_hash, '');
    END LOOP;
    BEGIN
        FOR s IN 1 .. cardinality(p_streams) LOOP
            head_hash := heads[s];
            FOR i IN 1 .. p_counts[s] LOOP
                e := e + 1;
                head_hash := encode(sha256(convert_to(head_hash, 'UTF8') || p_bodies[e] || now_text), 'hex');
                INSERT INTO events (stream_id, version, type, schema_version, data, metadata, recorded_at, hash)
                    VALUES (p_streams[s], p_expected[s] + i, p_types[e], p_schema_versions[e], p_data[e],
                            p_metadata, now_ts, head_hash)
                    RETURNING events.position, events.transaction_id INTO pos, xid;
            END LOOP;
            IF p_snapshots[s] IS NOT NULL THEN
                INSERT INTO snapshots (stream_id, version, state_schema, state, created_at)
                    VALUES (p_streams[s], p_expected[s] + p_counts[s], p_snapshot_schemas[s], p_snapshots[s], now_ts)
                    ON CONFLICT DO NOTHING;
            END IF;
            versions := versions || (p_expected[s] + p_counts[s]);
            positions := positions || pos;
        END LOOP;
    EXCEPTION WHEN unique_violation OR lock_not_available THEN
        -- Another writer took one of these versions first; this block's inserts are rolled back.
        FOR s IN 1 .. cardinality(p_streams) LOOP
            SELECT ev.version INTO head_version
                FROM events ev WHERE ev.stream_id = p_streams[s] ORDER BY ev.version DESC LIMIT 1;
            IF coalesce(head_version, 0) <> p_expected[s] THEN
                RETURN QUERY SELECT p_streams[s], coalesce(head_version, 0), NULL::bigint, NULL::bigint, now_ts, true;
                RETURN;
            END IF;
        END LOOP;
        -- The winner has not committed yet (we gave up waiting for it): it will be one version ahead.
        RETURN QUERY SELECT p_streams[1], p_expected[1] + 1, NULL::bigint, NULL::bigint, now_ts, true;
        RETURN;
    END;
    RETURN QUERY SELECT p_streams[s], versions[s], positions[s], xid, now_ts, false
        FROM generate_subscripts(p_streams, 1) AS s;
END;
$$;
"""

DROP_FUNCTION = "DROP FUNCTION events_append(text[], integer[], integer[], text[], smallint[], jsonb[], bytea[], jsonb, jsonb[], smallint[]);"


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0001_initial")]

    operations = [migrations.RunSQL(CREATE_FUNCTION, DROP_FUNCTION)]
