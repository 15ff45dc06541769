from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class GatewayConfig(AppConfig):
    name = "gateway"
    verbose_name = "Access"

    def ready(self) -> None:
        from gateway import login_throttle  # noqa: F401  (connects its receivers of login signals)

        post_migrate.connect(_ensure_groups, sender=self)


def _ensure_groups(**kwargs: Any) -> None:
    """After every migrate: the role groups with their permissions (which Django creates just before). A partial
    migrate (one app, to an old migration) may leave the auth tables for later: then nothing to do yet."""
    from django.db import connection

    from gateway.roles import ensure_groups

    if {"auth_group", "auth_permission"} <= set(connection.introspection.table_names()):
        ensure_groups()
