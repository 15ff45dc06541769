"""Where a projector writes: the live tables, or a rebuild's shadow copies of them."""

from __future__ import annotations

from dataclasses import dataclass

SHADOW_SUFFIX = "__shadow"


@dataclass(frozen=True, slots=True)
class Target:
    """Physical table names for a projector's logical ones, and whether they are the live tables."""

    live: bool = True

    def table(self, name: str) -> str:
        """The quoted physical name of logical table `name` (names are the projector's own constants)."""
        return f'"{name}"' if self.live else f'"{name}{SHADOW_SUFFIX}"'


LIVE = Target(live=True)
SHADOW = Target(live=False)
