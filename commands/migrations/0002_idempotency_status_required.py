from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    """Records are now written once, with their outcome, after the command ran (commands.idempotency)."""

    dependencies = [("commands", "0001_initial")]

    operations = [
        migrations.RunSQL("DELETE FROM idempotency_records WHERE status IS NULL", migrations.RunSQL.noop),
        migrations.AlterField(model_name="idempotencyrecord", name="status", field=models.PositiveSmallIntegerField()),
    ]
