"""Operational endpoints: /healthz (the process answers), /readyz (PostgreSQL and Redis answer), /metrics."""

from __future__ import annotations

import hmac
import json

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse

from gateway import metrics
from gateway.optional_redis import optional_redis


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse(json.dumps({"status": "ok"}), content_type="application/json")


def readyz(request: HttpRequest) -> HttpResponse:
    checks = {"postgresql": _postgresql(), "redis": _redis()}
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    return HttpResponse(json.dumps(body), status=200 if ready else 503, content_type="application/json")


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, for operators' sessions or `Authorization: Bearer <LEDGER_METRICS_TOKEN>`."""
    if not _may_scrape(request):
        return HttpResponse("metrics are for operators or the metrics token\n", status=403, content_type="text/plain")
    return HttpResponse(metrics.render(), content_type="text/plain; version=0.0.4")


def _may_scrape(request: HttpRequest) -> bool:
    token = settings.LEDGER_METRICS_TOKEN
    auth = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(auth.encode(), f"Bearer {token}".encode()):
        return True
    user = request.user
    return bool(user.is_authenticated and user.has_perm("commands.operate_projections"))


def _postgresql() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:
        return f"unavailable: {type(exc).__name__}"


def _redis() -> str:
    def ping(client: redis.Redis) -> str:
        client.ping()
        return "ok"

    optional_redis.reset()  # a readiness probe must really ask, not trust a back-off
    return optional_redis.run(ping, fallback="unavailable", purpose="readiness")
