"""Prometheus metrics: command counts and latencies, API errors, and per-projector lag read at scrape time.

With several web processes (gunicorn), set PROMETHEUS_MULTIPROC_DIR (make run does) so counters from every
process are summed; projector figures come from the database, so they are right in any case.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

COMMANDS = Counter("ledger_commands_total", "Commands handled, by command and outcome", ["command", "outcome"])
COMMAND_SECONDS = Histogram("ledger_command_seconds", "Time to handle a command", ["command"])
API_ERRORS = Counter("ledger_api_errors_total", "API answers with an error status", ["status"])


class ProjectionCollector(Collector):
    """Per projector: lag in events and seconds, events applied, failed (1) or not (0)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from projections.status import all_statuses

        lag = GaugeMetricFamily("ledger_projection_lag_events", "Events not yet applied", labels=["projector"])
        lag_s = GaugeMetricFamily(
            "ledger_projection_lag_seconds", "Age of the oldest unapplied event", labels=["projector"]
        )
        applied = GaugeMetricFamily("ledger_projection_applied_events", "Events applied so far", labels=["projector"])
        failed = GaugeMetricFamily("ledger_projection_failed", "1 when the projector is failed", labels=["projector"])
        for entry in all_statuses():
            lag.add_metric([entry.name], entry.lag_events)
            lag_s.add_metric([entry.name], entry.lag_seconds)
            applied.add_metric([entry.name], entry.applied_events)
            failed.add_metric([entry.name], 1 if entry.status == "failed" else 0)
        yield from (lag, lag_s, applied, failed)


def render() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        from prometheus_client import REGISTRY

        for collector in (COMMANDS, COMMAND_SECONDS, API_ERRORS):
            registry.register(collector)
        del REGISTRY
    registry.register(ProjectionCollector())
    return generate_latest(registry)
