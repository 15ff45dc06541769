"""The event store's tables.

`events` is created by explicit SQL in migration 0001 (the model is unmanaged): its triggers, defaults and
indexes are the store's guarantees, and Django must never try to alter or flush it.
"""

from __future__ import annotations

from django.db import models


class Event(models.Model):
    """One immutable event. Readers order by (transaction_id, position); see eventstore.store.read_all."""

    position = models.BigAutoField(primary_key=True)
    transaction_id = models.BigIntegerField(editable=False)
    stream_id = models.TextField()
    version = models.IntegerField()
    type = models.TextField()
    schema_version = models.SmallIntegerField()
    data = models.JSONField()
    metadata = models.JSONField()
    recorded_at = models.DateTimeField()
    hash = models.CharField(max_length=64)

    class Meta:
        managed = False
        db_table = "events"
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.stream_id}@{self.version} {self.type}"


class Snapshot(models.Model):
    """An aggregate's state at a stream version. Disposable: deleting every row changes no result."""

    stream_id = models.TextField()
    version = models.IntegerField()
    state_schema = models.SmallIntegerField()
    state = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "snapshots"
        constraints = [
            models.UniqueConstraint(
                fields=["stream_id", "state_schema", "version"], name="snapshots_stream_schema_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.stream_id}@{self.version} (schema {self.state_schema})"
