from __future__ import annotations

from django.apps import AppConfig


class CommandsConfig(AppConfig):
    name = "commands"
    verbose_name = "Commands"

    def ready(self) -> None:
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
