# The tables already exist: commands' migrations 0004 and 0005 created them. Here the models move to this app in
# Django's state only (commands.0006 removes them from that app's state), so no table is touched.

from __future__ import annotations

import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("commands", "0005_token_cutoffs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="LoginFailure",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("username", models.CharField(max_length=150)),
                        ("address", models.CharField(max_length=64)),
                        ("at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                    ],
                    options={
                        "db_table": "login_failures",
                        "indexes": [
                            models.Index(fields=["username", "at"], name="login_failures_username"),
                            models.Index(fields=["address", "at"], name="login_failures_address"),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="TokenCutoff",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("not_before", models.DateTimeField()),
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="token_cutoff",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={"db_table": "api_token_cutoffs"},
                ),
            ],
            database_operations=[],
        ),
    ]
