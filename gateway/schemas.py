"""The schemas both APIs share in the OpenAPI: problem details, the error answers, and an event's wire shape."""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Schema
from pydantic import Field, WithJsonSchema

# A moment as the API sends it: an ISO 8601 string with its UTC offset (`datetime.isoformat()`). Typed `str`,
# so the schemas ninja validates pass the string through as it is (a pydantic datetime would rewrite it).
DateTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


class FieldProblem(Schema):
    field: str = Field(description='the field at fault, like "amount" or "limit"; dotted inside a nested object')
    message: str
    type: str = Field(description="a stable code for the kind of problem")


class Problem(Schema):
    """RFC 9457 problem details; `code` is stable, `errors` lists field problems, a 409 adds the versions."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldProblem] | None = None
    expected_version: int | None = None
    actual_version: int | None = None


# The error answers every authenticated endpoint documents in the OpenAPI.
ERRORS: dict[int, Any] = dict.fromkeys((400, 401, 403, 404, 409, 413, 415, 422, 429, 503), Problem)


class EventOut(Schema):
    """A stored event, wherever the API shows one (eventstore.records.event_json): the stored payload, not the
    upcast event."""

    position: int = Field(description="global position: only goes up in reader order")
    stream_id: str = Field(description='"account-<uuid>" for an account\'s events')
    version: int = Field(description="1, 2, 3... within the stream")
    type: str = Field(description="the registered event name, like FundsDeposited")
    schema_version: int
    data: dict[str, Any] = Field(
        description="the event's payload as stored: free-form per `type` and `schema_version`; money as integer "
        "minor units plus `currency`"
    )
    metadata: dict[str, Any] = Field(
        description="free-form; the API's commands write correlation_id, causation_id, user, command, request_id"
    )
    recorded_at: DateTime
    hash: str = Field(description="sha256 chaining this event to the stream's previous one (hex)")
