"""Prometheus metrics: command counts and latencies, API errors, and the collectors apps register (per-projector
lag, read at scrape time).

With several web processes (gunicorn), set PROMETHEUS_MULTIPROC_DIR (make run does) so counters from every
process are summed; projector figures come from the database, so they are right in any case.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.registry import Collector

COMMANDS = Counter("ledger_commands_total", "Commands handled, by command and outcome", ["command", "outcome"])
COMMAND_SECONDS = Histogram("ledger_command_seconds", "Time to handle a command", ["command"])
API_ERRORS = Counter("ledger_api_errors_total", "API answers with an error status", ["status"])


_EXTRA: list[Collector] = []


def register(collector: Collector) -> None:
    """Add a collector read at every scrape (the apps' gauges: projections.metrics registers its own)."""
    _EXTRA.append(collector)


def render() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        from prometheus_client import REGISTRY

        for collector in (COMMANDS, COMMAND_SECONDS, API_ERRORS):
            registry.register(collector)
        del REGISTRY
    for extra in _EXTRA:
        registry.register(extra)
    return generate_latest(registry)
