"""Strict JSON for the API: what PostgreSQL or Python would choke on later is refused here, with a reason.

Refused: invalid UTF-8, nesting deeper than MAX_DEPTH (checked before parsing, so no RecursionError),
duplicate keys (Python keeps the last silently), NaN/Infinity, numbers beyond 2**53 or non-finite, and
strings (keys included) holding NUL or lone surrogates (jsonb and text reject them).
"""

from __future__ import annotations

import json
import math
from typing import Any

from ninja.parser import Parser

from eventstore.codec import CodecError, storable_text

MAX_DEPTH = 32
MAX_SAFE_INTEGER = 2**53


class MalformedJSON(ValueError):
    pass


def parse_strict(raw: bytes) -> Any:
    """Parse `raw` or raise MalformedJSON naming the first problem found."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedJSON("the body is not valid UTF-8") from None
    _check_depth(text)
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
            parse_int=_bounded_int,
            parse_float=_finite_float,
        )
    except json.JSONDecodeError as exc:
        raise MalformedJSON(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    _check_strings(value)
    return value


class StrictJSONParser(Parser):
    """django-ninja's body parser, made strict (ninja turns the exception into a 400)."""

    def parse_body(self, request: Any) -> Any:
        return parse_strict(request.body)


def _check_depth(text: str) -> None:
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise MalformedJSON(f"JSON nested deeper than {MAX_DEPTH} levels")
        elif char in "]}":
            depth -= 1


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedJSON(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise MalformedJSON(f"{name} is not a JSON number")


def _bounded_int(text: str) -> int:
    if len(text) > 20 or abs(int(text)) > MAX_SAFE_INTEGER:
        raise MalformedJSON(f"number {text[:20]}... is out of range" if len(text) > 20 else f"{text} is out of range")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or abs(value) > MAX_SAFE_INTEGER:
        raise MalformedJSON(f"number {text[:20]} is out of range")
    return value


def _check_strings(value: Any) -> None:
    if isinstance(value, str):
        try:
            storable_text(value)
        except CodecError as exc:
            raise MalformedJSON(f"strings: {exc}") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key)
            _check_strings(item)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item)
