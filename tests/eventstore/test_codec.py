from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar
from uuid import UUID

import pytest

from eventstore.codec import Codec, CodecError, UnknownEventType, canonical_json


@dataclass(frozen=True, slots=True, kw_only=True)
class Opened:
    schema_version: ClassVar[int] = 3
    account_id: UUID
    holder: str
    at: datetime
    tags: tuple[str, ...] = ()
    note: str | None = None


ID = UUID("7d9f6c1e-0000-4000-8000-000000000001")
T0 = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def codec() -> Codec:
    codec = Codec()
    codec.register(Opened)
    return codec


def test_an_event_round_trips_through_json(codec):
    event = Opened(account_id=ID, holder="Ann", at=T0, tags=("vip",), note=None)

    encoded = codec.encode(event)

    assert (encoded.type, encoded.schema_version) == ("Opened", 3)
    assert encoded.data == {
        "account_id": str(ID),
        "holder": "Ann",
        "at": T0.isoformat(),
        "tags": ["vip"],
        "note": None,
    }
    assert codec.decode("Opened", 3, encoded.data) == event


def test_upcasters_run_in_order_from_the_stored_version(codec):
    @codec.upcaster("Opened", 1)
    def v1_to_v2(data):
        holder = data.pop("name")
        return {**data, "holder": holder}

    @codec.upcaster("Opened", 2)
    def v2_to_v3(data):
        return {**data, "tags": []}

    v1 = {"account_id": str(ID), "name": "Ann", "at": T0.isoformat()}

    assert codec.decode("Opened", 1, v1) == Opened(account_id=ID, holder="Ann", at=T0)


def test_a_missing_upcaster_is_a_clear_error(codec):
    with pytest.raises(CodecError, match="no upcaster for Opened from v1 to v2"):
        codec.decode("Opened", 1, {})


def test_a_payload_newer_than_the_code_is_refused(codec):
    with pytest.raises(CodecError, match="newer than this code"):
        codec.decode("Opened", 4, {})


def test_a_renamed_class_keeps_reading_its_old_name(codec):
    codec.register(aliases={"AccountCreated": Opened})
    data = codec.encode(Opened(account_id=ID, holder="Ann", at=T0)).data

    assert codec.decode("AccountCreated", 3, data) == Opened(account_id=ID, holder="Ann", at=T0)
    assert codec.encode(Opened(account_id=ID, holder="Ann", at=T0)).type == "Opened"


def test_one_name_cannot_mean_two_classes(codec):
    @dataclass(frozen=True)
    class Other:
        pass

    with pytest.raises(CodecError, match="already registered"):
        codec.register(aliases={"Opened": Other})


def test_unregistered_types_are_refused_both_ways(codec):
    @dataclass(frozen=True)
    class Stranger:
        pass

    with pytest.raises(UnknownEventType):
        codec.encode(Stranger())
    with pytest.raises(UnknownEventType):
        codec.decode("Stranger", 1, {})


@pytest.mark.parametrize(
    "holder, message",
    [("nul\x00byte", "NUL"), ("lone \ud800 surrogate", "surrogates")],
)
def test_text_postgresql_cannot_store_is_refused_before_the_database(codec, holder, message):
    with pytest.raises(CodecError, match=message):
        codec.encode(Opened(account_id=ID, holder=holder, at=T0))


def test_floats_and_naive_datetimes_are_refused(codec):
    with pytest.raises(CodecError, match="floats"):
        codec.encode(Opened(account_id=ID, holder="Ann", at=T0, tags=(1.5,)))  # type: ignore[arg-type]
    with pytest.raises(CodecError, match="naive"):
        codec.encode(Opened(account_id=ID, holder="Ann", at=datetime(2026, 1, 1)))


def test_unknown_fields_in_a_payload_are_refused(codec):
    data = {**codec.encode(Opened(account_id=ID, holder="Ann", at=T0)).data, "extra": 1}

    with pytest.raises(CodecError, match="no field"):
        codec.decode("Opened", 3, data)


def test_canonical_json_is_independent_of_key_order():
    assert (
        canonical_json({"b": 1, "a": [1, "é"]})
        == canonical_json({"a": [1, "é"], "b": 1})
        == b'{"a":[1,"\\u00e9"],"b":1}'
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"account_id": 7}, "cannot build Opened"),  # not a string: UUID() fails on it
        ({"account_id": "not-a-uuid"}, "cannot build Opened"),
        ({"at": "yesterday"}, "cannot build Opened"),
        ({"holder": 5}, "expected a string"),
        ({"holder": None}, "expected a string"),
    ],
)
def test_a_value_of_the_wrong_shape_is_a_codec_error(codec, change, message):
    data = {**codec.encode(Opened(account_id=ID, holder="Ann", at=T0)).data, **change}

    with pytest.raises(CodecError, match=message):
        codec.decode("Opened", 3, data)


def test_a_missing_required_field_is_a_codec_error(codec):
    data = codec.encode(Opened(account_id=ID, holder="Ann", at=T0)).data
    del data["holder"]

    with pytest.raises(CodecError, match="cannot build Opened"):
        codec.decode("Opened", 3, data)


def test_fields_left_out_take_their_defaults_and_ids_decode_equal(codec):
    data = codec.encode(Opened(account_id=ID, holder="Ann", at=T0)).data
    del data["tags"], data["note"]

    first, second = codec.decode("Opened", 3, data), codec.decode("Opened", 3, dict(data))

    assert first == second == Opened(account_id=ID, holder="Ann", at=T0)
    assert first.account_id == ID and isinstance(first.account_id, UUID)
