"""The write side's own table: idempotency records (events live in the event store)."""

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
