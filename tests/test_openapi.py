"""The OpenAPI document at /api/openapi.json: valid, complete, and true.

Valid: it passes openapi_spec_validator. Complete: every 2xx answer of every operation is an object (or a list
of objects) whose fields are all named and typed, all the way down, except the few free-form maps listed below.
True: real answers to real requests match the declared schemas, with no field the document does not name
(tests/test_fuzz.py adds schemathesis' response_schema_conformance over generated requests).
"""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest
from django.test import Client
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from openapi_spec_validator import validate

from projections.jobs import catch_up_everything
from projections.registry import PROJECTORS
from projections.status import has_reached
from tests.api_client import PASSWORD, deposit, open_account

# The only places where an answer's shape is open, each a documented map: an event's payload and metadata
# (their keys depend on the event's type and schema version) and a transfer's versions (keyed by account id).
FREE_FORM = {"EventOut.data", "EventOut.metadata", "TransferAccepted.versions"}
SCALARS = {"string", "integer", "number", "boolean", "null"}


@pytest.fixture
def spec(db) -> dict[str, Any]:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(method, path) -> the operation, for every operation in the document."""
    return {(method, path): op for path, item in spec["paths"].items() for method, op in item.items()}


def success_schemas(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Status -> the JSON schema of each 2xx answer (a 2xx without a JSON body maps to {})."""
    return {
        status: answer.get("content", {}).get("application/json", {}).get("schema", {})
        for status, answer in operation["responses"].items()
        if status.startswith("2")
    }


def open_shapes(schema: dict[str, Any], spec: dict[str, Any], where: str) -> list[str]:
    """Where `schema` (with every $ref followed) leaves a value's shape open: an object without named
    properties, one that admits unnamed ones, or a value with no type. `where` names the place as
    "<Component>.<field>" once inside a component, as FREE_FORM does."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        return open_shapes(spec["components"]["schemas"][name], spec, name)
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            return [found for branch in schema[combinator] for found in open_shapes(branch, spec, where)]
    kinds = schema.get("type")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds}
    if "array" in kinds:
        return open_shapes(schema.get("items", {}), spec, f"{where}[]")
    if "object" in kinds or "properties" in schema or "additionalProperties" in schema:
        if where in FREE_FORM:
            return [] if schema.get("description") else [f"{where}: a free-form map must say what it holds"]
        found = [] if schema.get("properties") else [f"{where}: an object with no named properties"]
        if schema.get("additionalProperties") not in (None, False):
            found.append(f"{where}: admits properties it does not name")
        for name, field in schema.get("properties", {}).items():
            found += open_shapes(field, spec, f"{where}.{name}")
        return found
    if kinds <= SCALARS or "enum" in schema or "const" in schema:
        return []
    return [f"{where}: no type"]


def closed(schema: Any) -> Any:
    """The schema with `additionalProperties: false` on every object that names its properties (and says
    nothing else about extra ones): validating with it fails on any field the document does not name."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    tightened = {key: closed(value) for key, value in schema.items()}
    if "properties" in schema and "additionalProperties" not in schema:
        tightened["additionalProperties"] = False
    return tightened


def mismatches(spec: dict[str, Any], method: str, path: str, status: int, body: Any) -> list[str]:
    """How `body` fails the closed schema the document declares for (method, path, status), formats checked."""
    declared = success_schemas(operations(spec)[(method, path)])[str(status)]
    root = closed({**declared, "components": copy.deepcopy(spec["components"])})
    validator = OAS31Validator(root, format_checker=oas31_format_checker)
    place = f"{method.upper()} {path} {status}"
    return [f"{place}: {'/'.join(map(str, error.path))}: {error.message}" for error in validator.iter_errors(body)]


def read_models_reach(position: int) -> None:
    """Run the catch-up until every projector has applied `position`. Readers see no event above the oldest
    transaction running on the server (the event store's horizon), even one in another database: a test run
    sharing the server can hold this test's events back for a moment."""
    deadline = time.monotonic() + 10
    while not all(has_reached(name, position) for name in PROJECTORS):
        assert time.monotonic() < deadline, f"the read models never reached position {position}"
        catch_up_everything()
        time.sleep(0.05)


@pytest.mark.django_db
def test_the_openapi_document_validates_and_lists_every_endpoint_with_its_errors(spec):
    validate(spec)
    expected = {
        ("post", "/api/token"),
        ("post", "/api/accounts"),
        ("post", "/api/accounts/{account_id}/deposits"),
        ("post", "/api/accounts/{account_id}/withdrawals"),
        ("post", "/api/accounts/{account_id}/freeze"),
        ("post", "/api/accounts/{account_id}/unfreeze"),
        ("post", "/api/accounts/{account_id}/close"),
        ("post", "/api/accounts/{account_id}/holder"),
        ("post", "/api/transfers"),
        ("get", "/api/accounts/{account_id}/events"),
        ("get", "/api/accounts/{account_id}/state"),
        ("get", "/api/accounts"),
        ("get", "/api/accounts/{account_id}"),
        ("get", "/api/accounts/{account_id}/ledger"),
        ("get", "/api/events"),
        ("get", "/api/notifications"),
        ("get", "/api/projections"),
    }
    assert set(operations(spec)) == expected
    for key in expected - {("post", "/api/token")}:
        assert {"400", "401", "403", "404", "409", "413", "415", "422", "429", "503"} <= set(
            operations(spec)[key]["responses"]
        ), key


@pytest.mark.django_db
def test_every_2xx_answer_names_and_types_every_field_all_the_way_down(spec):
    found = []
    for (method, path), operation in operations(spec).items():
        answers = success_schemas(operation)
        assert answers, f"{method.upper()} {path} documents no 2xx answer"
        for status, schema in answers.items():
            where = f"{method.upper()} {path} {status}"
            found += open_shapes(schema, spec, where) if schema else [f"{where}: no JSON schema"]

    assert found == []
    components = spec["components"]["schemas"]
    assert all(field in components[name]["properties"] for name, field in (n.split(".") for n in FREE_FORM))


@pytest.mark.django_db
def test_the_open_shape_check_finds_a_bare_object_and_an_untyped_field(spec):
    """The check above can fail: an answer declared as a bare dict, or a field typed Any, is reported."""
    bare = {"additionalProperties": True, "type": "object"}
    untyped = {"properties": {"amount": {}}, "type": "object"}
    assert open_shapes(bare, spec, "GET /x 200") == [
        "GET /x 200: an object with no named properties",
        "GET /x 200: admits properties it does not name",
    ]
    assert open_shapes({"type": "array", "items": untyped}, spec, "GET /x 200") == ["GET /x 200[].amount: no type"]


@pytest.mark.django_db
def test_real_answers_of_every_operation_match_the_document_and_name_no_other_field(spec, teller):
    """One successful request per operation (a transfer among the movements, so the ledger has entries with and
    without a counterparty), each answer checked against its declared schema closed to unnamed fields."""
    answers: list[tuple[str, str, Any]] = []

    def call(method: str, path: str, url: str, body: Any = None, **query: str) -> Any:
        response = teller.post(url, body) if method == "post" else teller.get(url, query)
        assert 200 <= response.status_code < 300, (method, url, response.content)
        answers.append((method, path, response))
        return response.json()

    token = Client().post("/api/token", {"username": "teller", "password": PASSWORD}, content_type="application/json")
    answers.append(("post", "/api/token", token))
    holder = {"holder_name": "Ann Lee", "email": "ann@example.org", "owner": "alice"}
    opened = call("post", "/api/accounts", "/api/accounts", holder)
    source, target, spare = opened["account_id"], open_account(teller, owner="bob"), open_account(teller)
    deposit(teller, source, "5000.00")
    one = "/api/accounts/{account_id}"
    call("post", one + "/deposits", f"/api/accounts/{source}/deposits", {"amount": "1.00"})
    call("post", one + "/withdrawals", f"/api/accounts/{source}/withdrawals", {"amount": "1500.00"})  # notified
    transfer = {"from_account": source, "to_account": target, "amount": "1200.00", "reference": "rent"}
    moved = call("post", "/api/transfers", "/api/transfers", transfer)  # notified too
    call("post", one + "/freeze", f"/api/accounts/{target}/freeze", {"reason": "checks"})
    call("post", one + "/unfreeze", f"/api/accounts/{target}/unfreeze", {})
    call("post", one + "/holder", f"/api/accounts/{target}/holder", {"email": "bob@example.org"})
    closed_at = call("post", one + "/close", f"/api/accounts/{spare}/close", {})["position"]
    read_models_reach(closed_at)

    page = call("get", "/api/accounts", "/api/accounts", q="ann")
    call("get", one, f"/api/accounts/{source}", min_position=str(moved["position"]))
    ledger = call("get", one + "/ledger", f"/api/accounts/{source}/ledger")
    call("get", one + "/events", f"/api/accounts/{source}/events", limit="2")
    call("get", one + "/state", f"/api/accounts/{target}/state", version="2")
    log = call("get", "/api/events", "/api/events")
    notices = call("get", "/api/notifications", "/api/notifications")
    call("get", "/api/projections", "/api/projections")

    assert page["items"] and log["items"]
    notified = {(item["kind"], item["account_id"]) for item in notices["items"]}
    assert {("large_withdrawal", source), ("large_transfer", source)} <= notified
    assert {entry["counterparty"] is None for entry in ledger["items"]} == {True, False}
    assert {(method, path) for method, path, _ in answers} == set(operations(spec))  # every one of them
    found = [
        problem
        for method, path, response in answers
        for problem in mismatches(spec, method, path, response.status_code, response.json())
    ]
    assert found == []


@pytest.mark.django_db
def test_an_unnamed_or_mistyped_field_in_an_answer_is_caught(spec):
    """The comparison above can fail: a field the document does not name, or one of another type."""
    event = {
        **{"position": 1, "stream_id": "s", "version": 1, "type": "T", "schema_version": 1, "hash": "ab"},
        **{"data": {"any": 1}, "metadata": {}, "recorded_at": "2026-01-01T00:00:00+00:00"},
    }
    page = {"items": [event], "head_position": 1, "next_cursor": None}
    assert mismatches(spec, "get", "/api/events", 200, page) == []
    assert mismatches(spec, "get", "/api/events", 200, page | {"extra": 1}) != []
    assert mismatches(spec, "get", "/api/events", 200, page | {"items": [event | {"version": "1"}]}) != []
    assert mismatches(spec, "get", "/api/events", 200, page | {"items": [event | {"recorded_at": "noon"}]}) != []
