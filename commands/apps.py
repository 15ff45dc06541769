from __future__ import annotations

from django.apps import AppConfig


class CommandsConfig(AppConfig):
    name = "commands"
    verbose_name = "Commands"

    def ready(self) -> None:
        from commands.domain import accounts
        from eventstore.codec import codec

        codec.register(*accounts.EVENTS)
