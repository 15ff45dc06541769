from __future__ import annotations

from django.db import migrations, models

CREATE_EVENTS = """
CREATE TABLE events (
    position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The writer's transaction id: readers only read below the oldest running transaction (the horizon),
    -- in (transaction_id, position) order, so a late commit can never be skipped. See docs/architecture.md.
    transaction_id  bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    stream_id       text NOT NULL CHECK (stream_id <> ''),
    version         integer NOT NULL CHECK (version >= 1),
    type            text NOT NULL,
    schema_version  smallint NOT NULL CHECK (schema_version >= 1),
    data            jsonb NOT NULL,
    metadata        jsonb NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT statement_timestamp(),
    hash            char(64) NOT NULL,
    CONSTRAINT events_stream_version UNIQUE (stream_id, version)
);
CREATE INDEX events_transaction_position ON events (transaction_id, position);

CREATE FUNCTION events_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are immutable: % on events is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER events_no_update_or_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_reject_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_reject_change();
"""

DROP_EVENTS = """
DROP TABLE events;
DROP FUNCTION events_reject_change();
"""


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.RunSQL(CREATE_EVENTS, DROP_EVENTS),
        migrations.CreateModel(
            name="Event",
            fields=[
                ("position", models.BigAutoField(primary_key=True, serialize=False)),
                ("transaction_id", models.BigIntegerField(editable=False)),
                ("stream_id", models.TextField()),
                ("version", models.IntegerField()),
                ("type", models.TextField()),
                ("schema_version", models.SmallIntegerField()),
                ("data", models.JSONField()),
                ("metadata", models.JSONField()),
                ("recorded_at", models.DateTimeField()),
                ("hash", models.CharField(max_length=64)),
            ],
            options={"db_table": "events", "ordering": ["position"], "managed": False},
        ),
        migrations.CreateModel(
            name="Snapshot",
            fields=[
                (
                    "id",
                    models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                ),
                ("stream_id", models.TextField()),
                ("version", models.IntegerField()),
                ("state_schema", models.SmallIntegerField()),
                ("state", models.JSONField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"db_table": "snapshots"},
        ),
        migrations.AddConstraint(
            model_name="snapshot",
            constraint=models.UniqueConstraint(
                fields=("stream_id", "state_schema", "version"), name="snapshots_stream_schema_version"
            ),
        ),
    ]
