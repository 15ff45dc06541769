"""The write side's own tables: idempotency records, and the permissions the roles are made of (events live in
the event store)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """A command's outcome under a client's Idempotency-Key, stored in the command's own transaction.

    Scoped per user: two users may use the same key. `fingerprint` identifies the request (method, path and
    canonical body), so a key reused for a different request is refused rather than replayed.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField(default=dict)
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "idempotency_records"
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_at")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"


class Access(models.Model):
    """No table: the permissions the roles are made of (gateway.roles gives each role group its set)."""

    class Meta:
        managed = False
        verbose_name_plural = "access"  # not "accesss"
        default_permissions = ()
        permissions = [
            ("command_any_account", "Issue commands on any account"),
            ("command_own_accounts", "Open accounts for oneself and issue commands on them"),
            ("read_all_accounts", "Read every account, event and read model"),
            ("operate_projections", "Retry, skip and rebuild projections; use the queue dashboard"),
        ]
