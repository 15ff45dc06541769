"""Fuzzing with a fixed seed and budget: schemathesis over /api/openapi.json (no 5xx, no 4xx stores an event,
every 2xx answer conforms to the schema the document declares for it), and Hypothesis over the strict JSON parser
(it answers a value or MalformedJSON, nothing else)."""

from __future__ import annotations

import json
import math

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.wsgi import application
from gateway.jsonparse import MalformedJSON, parse_strict
from tests.api_client import event_count, login
from tests.test_openapi import read_models_reach


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # every request ends by closing the connection, as in production
def test_requests_the_schema_allows_get_no_5xx_store_nothing_when_refused_and_get_2xx_answers_it_declares(users):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
    teller = login("teller")
    headers = {"Authorization": f"Bearer {teller.token}"}
    # Random ids find nothing: half the cases aim at this account instead, so that reads of it answer 2xx.
    opened = teller.post("/api/accounts", {"holder_name": "Fuzz Target", "email": "fuzz@example.org", "owner": "alice"})
    account = opened.json()["account_id"]
    read_models_reach(opened.json()["position"])
    tried, conforming = [], set()

    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()  # every operation in the document can be generated
        operation = result.ok()

        @settings(max_examples=25, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(), on_the_account=st.booleans())
        def call(case, on_the_account) -> None:
            if on_the_account and "account_id" in case.path_parameters:
                case.path_parameters["account_id"] = account
                case.query.pop("min_position", None)  # a wait for a position never reached lasts 2 s
            before = event_count()
            response = case.call(headers=headers)
            tried.append((case.method, case.path, response.status_code))
            assert response.status_code < 500, (case.method, case.formatted_path, case.body, response.text[:500])
            if response.status_code >= 400:
                assert event_count() == before, (case.method, case.formatted_path, case.body, response.status_code)
            elif response.status_code < 300:
                case.validate_response(response, checks=[response_schema_conformance])
                conforming.add((case.method, case.path))

        call()

    assert len({(method, path) for method, path, _ in tried}) >= 17  # every operation was exercised
    reads = {(method, path) for method, path, _ in tried if method == "GET"}
    assert reads <= conforming  # every read answered 2xx at least once, and conformed


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def storable(value: object) -> bool:
    """What PostgreSQL's jsonb keeps as it is: finite numbers, text without NUL or lone surrogates."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return "\x00" not in value and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, list):
        return all(storable(item) for item in value)
    if isinstance(value, dict):
        return all(storable(key) and storable(item) for key, item in value.items())
    return True


@settings(max_examples=400)
@given(raw=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v, allow_nan=True).encode(errors="replace")))
def test_the_parser_answers_a_storable_value_or_malformed_json_and_nothing_else(raw):
    try:
        value = parse_strict(raw)
    except MalformedJSON:
        return
    assert storable(value)
    assert json.loads(json.dumps(value, allow_nan=False)) == value  # and it survives a round trip
