"""Given events -> when a command -> then events or an error: the decider specification, no database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from commands.domain.accounts import AccountCommand, AccountEvent, decide, fold


@dataclass
class Spec:
    history: list[AccountEvent]

    def when(self, command: AccountCommand) -> Outcome:
        return Outcome(self.history, command)


@dataclass
class Outcome:
    history: list[AccountEvent]
    command: AccountCommand

    def then(self, *expected: AccountEvent) -> None:
        assert decide(self.command, fold(self.history)) == list(expected)

    def then_fails(self, error: type[Exception], match: str | None = None) -> None:
        with pytest.raises(error, match=match):
            decide(self.command, fold(self.history))


def given(*events: AccountEvent) -> Spec:
    return Spec(list(events))
