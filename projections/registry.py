"""Every projector, by name. The runner, the jobs and the operator commands look projectors up here."""

from __future__ import annotations

from projections.projector import Projector
from projections.projectors import account_search, account_summaries, daily_totals, ledger_entries, notifications

PROJECTORS: dict[str, Projector] = {
    projector.name: projector
    for projector in (
        account_summaries.PROJECTOR,
        ledger_entries.PROJECTOR,
        account_search.PROJECTOR,
        daily_totals.PROJECTOR,
        notifications.PROJECTOR,
    )
}


def get(name: str) -> Projector:
    """Raises KeyError naming the known projectors."""
    try:
        return PROJECTORS[name]
    except KeyError:
        raise KeyError(f"no projector named {name!r} (known: {', '.join(sorted(PROJECTORS))})") from None
