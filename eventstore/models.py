"""The event store's tables.

`events` is created by explicit SQL in migration 0001 (the model is unmanaged): its triggers, defaults and
indexes are the store's guarantees, and Django must never try to alter or flush it.
"""

from __future__ import annotations

from django.db import models


class Event(models.Model):
    """One immutable event. `position` is its place in the global order (writing transaction's id * 2^20 + its
    index in that transaction); readers read in position order below the horizon (eventstore.store)."""

    position = models.BigIntegerField(primary_key=True)
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
    """An aggregate's state at a stream version. Disposable: deleting every row changes no result.

    Written only by `events_append`, never updated (a trigger refuses it). `digest` binds the state to the hash
    of the event at `version`; a snapshot that does not match is ignored on load and reported by
    verify_eventstore, which also re-folds the stream and compares.
    """

    stream_id = models.TextField()
    version = models.IntegerField()
    state_schema = models.SmallIntegerField()
    state = models.JSONField()
    digest = models.CharField(max_length=64)
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
