"""The JSON API: one NinjaAPI, its authentication, its strict parser, and every error as problem+json.

OpenAPI at /api/openapi.json, interactive docs at /api/docs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from commands.domain.access import Forbidden
from commands.domain.errors import AccountNotFound, DomainError
from eventstore.records import ConcurrencyError
from gateway.jsonparse import MalformedJSON, StrictJSONParser
from gateway.problems import ProblemError, problem, problem_response, refusal_body
from gateway.routes import router
from gateway.tokens import JWTAuth, SessionAuth

log = logging.getLogger(__name__)

api = NinjaAPI(
    title="Ledger API",
    version="1",
    description=(
        "Event-sourced banking ledger. Authenticate with `POST /api/token`, then send "
        "`Authorization: Bearer <access>`. Errors are RFC 9457 `application/problem+json` "
        "with a stable `code`."
    ),
    auth=[JWTAuth(), SessionAuth(csrf=True)],
    parser=StrictJSONParser(),
    urls_namespace="api",
)
api.add_router("/", router)


def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Wrong JSON shape or unknown fields: 400. Missing or out-of-range values: 422. A bad path id: 404."""
    errors = [
        {
            "field": _field(error["loc"]),
            "message": error["msg"],
            "type": error["type"],
        }
        for error in exc.errors
    ]
    if any(error["loc"][0] == "path" for error in exc.errors):
        return problem(404, "no such resource")
    if any(_structural(error["type"]) for error in exc.errors):
        return problem(400, "the request does not have the expected shape", errors=errors)
    return problem(422, "some fields are invalid", errors=errors)


def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = problem(401, "authentication required: send a valid Bearer token from POST /api/token")
    response["WWW-Authenticate"] = 'Bearer realm="ledger"'
    return response


def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, MalformedJSON):
        return problem(400, str(exc.__cause__), "malformed_json")
    if exc.status_code == 401:
        return problem(401, str(exc), "invalid_credentials")
    if exc.status_code == 403:
        return problem(403, "CSRF check failed: send the X-CSRFToken header", "csrf_failed")
    return problem(exc.status_code, str(exc))


def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    if isinstance(exc, AccountNotFound) and _names_url_account(request, exc):
        return problem(404, str(exc), exc.code)
    return problem_response(refusal_body(exc))


def forbidden(request: HttpRequest, exc: Forbidden) -> HttpResponse:
    return problem(403, str(exc), exc.code)


def conflict(request: HttpRequest, exc: ConcurrencyError) -> HttpResponse:
    detail = f"the account is at version {exc.actual}, not {exc.expected}: reload and try again"
    return problem(409, detail, expected_version=exc.expected, actual_version=exc.actual)


def problem_error(request: HttpRequest, exc: ProblemError) -> HttpResponse:
    return exc.response()


def database_down(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.error("database unavailable", extra={"error": str(exc), "path": request.path})
    response = problem(503, "the database is unavailable; try again shortly", "database_unavailable")
    response["Retry-After"] = "5"
    return response


def internal_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("unhandled error in the API", extra={"path": request.path})
    return problem(500, "an internal error occurred; it has been logged")


def _field(loc: tuple[Any, ...]) -> str:
    """("body", "payload", "amount") -> "amount"; ("query", "limit") -> "limit"."""
    parts = loc[2:] if loc[0] == "body" and len(loc) > 2 else loc[1:]
    return ".".join(str(part) for part in parts)


def _structural(error_type: str) -> bool:
    return error_type.endswith("_type") or error_type in {"extra_forbidden", "json_invalid", "model_type"}


def _names_url_account(request: HttpRequest, exc: AccountNotFound) -> bool:
    kwargs = request.resolver_match.kwargs if request.resolver_match else {}
    return str(kwargs.get("account_id")) == str(exc.account_id)


_HANDLERS: list[tuple[type[Exception], Callable[[HttpRequest, Any], HttpResponse]]] = [
    (ValidationError, validation_error),
    (AuthenticationError, unauthorized),
    (HttpError, http_error),
    (DomainError, domain_error),
    (Forbidden, forbidden),
    (ConcurrencyError, conflict),
    (ProblemError, problem_error),
    (OperationalError, database_down),
    (InterfaceError, database_down),
    (Exception, internal_error),
]
for _kind, _handler in _HANDLERS:
    api.add_exception_handler(_kind, _handler)
