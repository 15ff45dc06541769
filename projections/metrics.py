"""The read side's gauges for /metrics (registered with gateway.metrics when the app is ready)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from projections.status import all_statuses


class ProjectionCollector(Collector):
    """Per projector: lag in events and seconds, events applied, failed (1) or not (0)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
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
