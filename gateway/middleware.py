"""Gateway middleware: request identity for every request, and the API's guards and error shape."""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from gateway import metrics, ratelimit, tokens
from gateway.problems import CONTENT_TYPE, problem

_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")
_BODY_METHODS = {"POST", "PUT", "PATCH"}


def _incoming_id(request: HttpRequest, header: str) -> str:
    value = request.headers.get(header, "")
    return value if _SAFE_ID.fullmatch(value) else str(uuid.uuid4())


class RequestIdentityMiddleware:
    """Sets request.correlation_id (X-Correlation-ID, else new) and request.request_id (X-Request-ID, else
    new), and echoes both on the response, so a client can follow its request into the event metadata."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.correlation_id = _incoming_id(request, "X-Correlation-ID")  # type: ignore[attr-defined]
        request.request_id = _incoming_id(request, "X-Request-ID")  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Correlation-ID"] = request.correlation_id  # type: ignore[attr-defined]
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


class ApiGuardMiddleware:
    """For /api/: 413 over the body limit, 415 for a body that is not JSON, 400 for an empty one, 429 over the
    rate limit, and every error response (Django's 404, ninja's 405, ...) turned into problem+json."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        refused = self._refuse(request)
        response = refused or self.get_response(request)
        if response.status_code >= 400:
            metrics.API_ERRORS.labels(str(response.status_code)).inc()
            if not response.get("Content-Type", "").startswith(CONTENT_TYPE):
                response = self._as_problem(response)
        return response

    def _refuse(self, request: HttpRequest) -> HttpResponse | None:
        length = _content_length(request)
        if length > settings.LEDGER_API_MAX_BODY_BYTES:
            return problem(413, f"the body may be at most {settings.LEDGER_API_MAX_BODY_BYTES} bytes")
        if request.method in _BODY_METHODS and length > 0 and not _is_json(request.content_type or ""):
            return problem(415, "send the body as application/json")
        if request.method in _BODY_METHODS and not request.body.strip():
            return problem(400, "the body is empty: send a JSON object ({} when there is nothing to say)", "empty_body")
        retry_after = ratelimit.check(_identity(request))
        if retry_after is not None:
            response = problem(429, f"more than {settings.LEDGER_RATE_LIMIT_PER_MINUTE} requests in a minute")
            response["Retry-After"] = str(retry_after)
            return response
        return None

    @staticmethod
    def _as_problem(response: HttpResponse) -> HttpResponse:
        detail = ""
        with contextlib.suppress(ValueError, AttributeError):  # not JSON, or not an object: use the default
            detail = str(json.loads(response.content).get("detail", ""))
        wrapped = problem(response.status_code, detail or _DEFAULT_DETAIL.get(response.status_code, "request failed"))
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                wrapped[header] = response[header]
        return wrapped


_DEFAULT_DETAIL = {
    404: "no such resource",
    405: "this method is not allowed here",
    401: "authentication required: send a Bearer token from POST /api/token",
}


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def _identity(request: HttpRequest) -> str:
    """The authenticated user when we can tell cheaply (a valid token, a session), else the address."""
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        claims = tokens.verified_claims(request, auth[7:])  # the authentication reuses this decoding
        if claims is not None:
            return "user:" + str(claims["sub"])
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return "addr:" + str(request.META.get("REMOTE_ADDR", "unknown"))
