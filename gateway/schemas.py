"""The schemas every endpoint shares in the OpenAPI: problem details and the error answers."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class Problem(Schema):
    """RFC 9457 problem details; `code` is stable, `errors` lists field problems, a 409 adds the versions."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict[str, Any]] | None = None
    expected_version: int | None = None
    actual_version: int | None = None


# The error answers every authenticated endpoint documents in the OpenAPI.
ERRORS: dict[int, Any] = dict.fromkeys((400, 401, 403, 404, 409, 413, 415, 422, 429, 503), Problem)
