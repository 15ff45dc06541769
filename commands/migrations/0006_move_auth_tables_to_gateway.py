# LoginFailure and TokenCutoff now belong to the gateway app (gateway.0001 takes them over in Django's state);
# their tables stay as they are.

from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("commands", "0005_token_cutoffs"),
        ("gateway", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="LoginFailure"),
                migrations.DeleteModel(name="TokenCutoff"),
            ],
            database_operations=[],
        ),
    ]
