"""The Django admin as the audit trail: events are shown, never added, changed or deleted, by anyone."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from eventstore.models import Event, Snapshot

ACCOUNT_STREAM_PREFIX = "account-"  # links to the history page (the store itself knows no stream kinds)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """No add, change or delete permission for anyone (superusers included), and no bulk actions. Who may view
    what is Django's: the model's view permission (the auditor and operator roles hold them, gateway.roles)."""

    actions = None

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def abbreviated(value: object, keep: int = 8) -> str:
    """A long id, hash or text cut to its first `keep` characters, whole in the tooltip: list columns stay narrow
    enough for the change list to fit the screen. Escaped by format_html (stream ids and references are input)."""
    text = "" if value is None else str(value)
    if len(text) <= keep + 1:
        return text
    return format_html('<span title="{}">{}…</span>', text, text[:keep])


def when(moment: datetime | None) -> str:
    """A list column's timestamp, short and sortable by eye (the admin's default spells the month out)."""
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else "—"


def pretty_json(value: Any) -> str:
    """Indented JSON inside <pre>, escaped by format_html: event data is user input."""
    return format_html('<pre class="payload">{}</pre>', json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))


class UserFilter(admin.SimpleListFilter):
    """Filter events by the user in their metadata (who acted)."""

    title = "user"
    parameter_name = "user"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        users = Event.objects.values_list("metadata__user", flat=True).distinct().order_by("metadata__user")[:200]
        return [(str(user), str(user)) for user in users if user]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return queryset.filter(metadata__user=self.value()) if self.value() else queryset


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("position", "type", "stream", "version", "user", "recorded")
    list_filter = ("type", UserFilter, "recorded_at")
    date_hierarchy = "recorded_at"
    search_fields = ("stream_id", "metadata__correlation_id", "metadata__user")
    readonly_fields = (
        "position",
        "stream_id",
        "stream_history",
        "version",
        "type",
        "schema_version",
        "data_pretty",
        "metadata_pretty",
        "recorded_at",
        "hash",
    )
    fields = readonly_fields
    show_full_result_count = False  # counting a large log on every page is slow

    @admin.display(description="user")
    def user(self, event: Event) -> str:
        return str(event.metadata.get("user") or "—")

    @admin.display(description="stream", ordering="stream_id")
    def stream(self, event: Event) -> str:
        return abbreviated(event.stream_id, keep=len(ACCOUNT_STREAM_PREFIX) + 8)

    @admin.display(description="recorded at", ordering="recorded_at")
    def recorded(self, event: Event) -> str:
        return when(event.recorded_at)

    @admin.display(description="data")
    def data_pretty(self, event: Event) -> str:
        return pretty_json(event.data)

    @admin.display(description="metadata")
    def metadata_pretty(self, event: Event) -> str:
        return pretty_json(event.metadata)

    @admin.display(description="history page")
    def stream_history(self, event: Event) -> str:
        if not event.stream_id.startswith(ACCOUNT_STREAM_PREFIX):
            return "—"
        url = reverse("web:history", args=[event.stream_id.removeprefix(ACCOUNT_STREAM_PREFIX)])
        return format_html('<a href="{}">{}</a>', url, event.stream_id)


@admin.register(Snapshot)
class SnapshotAdmin(ReadOnlyAdmin):
    list_display = ("stream", "version", "state_schema", "created")
    search_fields = ("stream_id",)

    @admin.display(description="stream", ordering="stream_id")
    def stream(self, snapshot: Snapshot) -> str:
        return abbreviated(snapshot.stream_id, keep=len(ACCOUNT_STREAM_PREFIX) + 8)

    @admin.display(description="created at", ordering="created_at")
    def created(self, snapshot: Snapshot) -> str:
        return when(snapshot.created_at)
