from __future__ import annotations

from django.apps import AppConfig


class CommandsConfig(AppConfig):
    name = "commands"
