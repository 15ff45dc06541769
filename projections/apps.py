from __future__ import annotations

from django.apps import AppConfig


class ProjectionsConfig(AppConfig):
    name = "projections"

    def ready(self) -> None:
        from gateway import metrics
        from projections.metrics import ProjectionCollector

        metrics.register(ProjectionCollector())
