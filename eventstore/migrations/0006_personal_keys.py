from __future__ import annotations

from django.db import migrations

# One key per data subject at a time (eventstore.personal); a destroyed key keeps its row, without the key, so
# the erasure and its time stay on record.
CREATE = """
CREATE TABLE personal_keys (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject text NOT NULL,
    key bytea CHECK (key IS NULL OR octet_length(key) = 32),
    created_at timestamptz NOT NULL,
    erased_at timestamptz,
    CHECK ((key IS NULL) = (erased_at IS NOT NULL))
);
CREATE UNIQUE INDEX personal_keys_one_active ON personal_keys (subject) WHERE key IS NOT NULL;
CREATE INDEX personal_keys_subject ON personal_keys (subject);
"""


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0005_append_as_owner")]

    operations = [migrations.RunSQL(CREATE, "DROP TABLE personal_keys;")]
