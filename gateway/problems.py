"""RFC 9457 problem details: every API error is `application/problem+json` with a stable `code`."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from django.http import HttpResponse

from commands.domain.errors import DomainError, FieldError

CONTENT_TYPE = "application/problem+json"

# A stable code for each status the API answers without a more specific one.
DEFAULT_CODES = {
    400: "malformed_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "version_conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


def problem_body(status: int, detail: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    code = code or DEFAULT_CODES.get(status, "error")
    return {
        "type": f"/problems/{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }


def refusal_body(exc: DomainError) -> dict[str, Any]:
    """A business-rule refusal (422) with its stable code; a FieldError names its field in `errors`."""
    extra = (
        {"errors": [{"field": exc.field, "message": str(exc), "type": exc.code}]} if isinstance(exc, FieldError) else {}
    )
    return problem_body(422, str(exc), exc.code, **extra)


def problem(status: int, detail: str, code: str | None = None, **extra: Any) -> HttpResponse:
    return problem_response(problem_body(status, detail, code, **extra))


def problem_response(body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=body["status"], content_type=CONTENT_TYPE)


class ProblemError(Exception):
    """An error an app raises for the API to answer as it says: `status`, the stable `code`, `headers`."""

    status = 500
    code = "internal_error"

    @property
    def headers(self) -> dict[str, str]:
        return {}

    def response(self) -> HttpResponse:
        answer = problem(self.status, str(self), self.code)
        for name, value in self.headers.items():
            answer[name] = value
        return answer


class Throttled(ProblemError):
    """Too many attempts: answered 429 with Retry-After."""

    status, code = 429, "login_throttled"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins: try again in {retry_after} s")
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
