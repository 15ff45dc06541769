from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CommandsConfig(AppConfig):
    name = "commands"
    verbose_name = "Commands"

    def ready(self) -> None:
        from config import login_throttle  # noqa: F401  (connects its receivers of login signals)

        post_migrate.connect(_ensure_groups, sender=self)
        from commands.domain import accounts
        from eventstore import states
        from eventstore.codec import codec

        codec.register(*accounts.EVENTS)
        states.register(
            stream_prefix=accounts.STREAM_PREFIX,
            schema=accounts.STATE_SCHEMA,
            initial=accounts.Account(),
            evolve=accounts.evolve,
        )


def _ensure_groups(**kwargs: Any) -> None:
    """After every migrate: the role groups with their permissions (which Django creates just before). A partial
    migrate (one app, to an old migration) may leave the auth tables for later: then nothing to do yet."""
    from django.db import connection

    from commands.roles import ensure_groups

    if {"auth_group", "auth_permission"} <= set(connection.introspection.table_names()):
        ensure_groups()
