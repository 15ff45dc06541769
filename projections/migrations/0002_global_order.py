from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    """Checkpoints are one position (eventstore 0003); ledger_entries keeps a head per account."""

    dependencies = [("projections", "0001_initial"), ("eventstore", "0003_global_order")]

    operations = [
        migrations.RemoveField(model_name="projectioncheckpoint", name="transaction_id"),
        migrations.RemoveField(model_name="dailytotal", name="last_transaction_id"),
        migrations.CreateModel(
            name="LedgerHead",
            fields=[
                ("account_id", models.UUIDField(primary_key=True, serialize=False)),
                ("version", models.IntegerField()),
                ("balance", models.BigIntegerField()),
            ],
            options={"db_table": "ledger_heads"},
        ),
        # Positions written before eventstore 0003 mean nothing now (that migration refuses a non-empty store).
        migrations.RunSQL("DELETE FROM projection_checkpoints", migrations.RunSQL.noop),
    ]
