"""The only module that knows how events look as JSON.

Event types are registered by name (the class name, or an alias kept after a rename), never by module path,
so moving code never breaks stored history. Each type has a `schema_version`; upcasters registered here turn
an older stored payload into the current shape at read time. Stored rows are never edited.

Values map to JSON as: UUID -> str, datetime/date -> ISO 8601, Decimal -> str, Enum -> its value, tuple ->
list, nested dataclass -> object. Floats are refused for money's sake: amounts are integer minor units.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from collections.abc import Callable, Hashable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar, cast, get_args, get_origin
from uuid import UUID

T = TypeVar("T")
JSONDict = dict[str, Any]
Upcaster = Callable[[JSONDict], JSONDict]


class CodecError(Exception):
    """An event cannot be encoded or decoded: unknown type, missing upcaster, or a payload of wrong shape."""


class UnknownEventType(CodecError):
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class Encoded:
    type: str
    schema_version: int
    data: JSONDict


class Codec:
    """A registry of event types and upcasters. `codec` below is the project's one instance."""

    def __init__(self) -> None:
        self._types: dict[str, type] = {}
        self._names: dict[type, str] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, *classes: type, aliases: Mapping[str, type] | None = None) -> None:
        """Register event classes under their class names; `aliases` maps old names to renamed classes.

        Registering the same class twice is a no-op; two classes under one name is an error.
        """
        for name, cls in [(cls.__name__, cls) for cls in classes] + list((aliases or {}).items()):
            if not dataclasses.is_dataclass(cls):
                raise CodecError(f"{cls!r} is not a dataclass")
            if self._types.setdefault(name, cls) is not cls:
                raise CodecError(f"event type name {name!r} is already registered to {self._types[name]!r}")
            self._names.setdefault(cls, cls.__name__)

    def upcaster(self, type_name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorate `fn(data) -> data` that turns a `from_version` payload into `from_version + 1`."""

        def decorator(fn: Upcaster) -> Upcaster:
            key = (type_name, from_version)
            if key in self._upcasters:
                raise CodecError(f"an upcaster for {type_name} v{from_version} is already registered")
            self._upcasters[key] = fn
            return fn

        return decorator

    def is_registered(self, type_name: str) -> bool:
        return type_name in self._types

    def encode(self, event: object) -> Encoded:
        name = self._names.get(type(event))
        if name is None:
            raise UnknownEventType(f"{type(event).__name__} is not a registered event type")
        return Encoded(name, schema_version_of(type(event)), dump(event))

    def decode(self, type_name: str, schema_version: int, data: JSONDict) -> object:
        """Upcast a stored payload step by step to the current schema, then build the event object."""
        cls = self._types.get(type_name)
        if cls is None:
            raise UnknownEventType(f"no event type is registered as {type_name!r}")
        current = schema_version_of(cls)
        if schema_version > current:
            raise CodecError(f"{type_name} v{schema_version} is newer than this code (v{current})")
        for version in range(schema_version, current):
            upcast = self._upcasters.get((type_name, version))
            if upcast is None:
                raise CodecError(f"no upcaster for {type_name} from v{version} to v{version + 1}")
            data = upcast(dict(data))
        return load(cls, data)


def schema_version_of(cls: type) -> int:
    version = getattr(cls, "schema_version", 1)
    if not isinstance(version, int):
        raise CodecError(f"{cls.__name__}.schema_version must be an int")
    return version


def dump(obj: object) -> JSONDict:
    """A dataclass instance as a JSON-ready dict."""
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise CodecError(f"{obj!r} is not a dataclass instance")
    return {name: _to_json(getattr(obj, name)) for name in _field_names(type(obj))}


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls))


def load(cls: type[T], data: Mapping[str, Any]) -> T:
    """Build `cls` from a dict made by `dump`, converting each field by its annotation.

    Raises CodecError for a field `cls` does not have, a required field missing or a value of the wrong type.
    """
    try:
        return cast(T, _builder(cast(Hashable, cls))(data))
    except (TypeError, ValueError, AttributeError) as exc:
        unknown = sorted(set(data) - set(_converters(cast(Hashable, cls))))
        if unknown:
            raise CodecError(f"{cls.__name__} has no field(s) {unknown}") from None
        raise CodecError(f"cannot build {cls.__name__}: {exc}") from exc


@functools.cache
def _builder(cls: Any) -> Callable[[Mapping[str, Any]], Any]:
    """`data -> cls(...)`, worked out once per class: only the fields whose JSON value is not already their
    value are converted, in a loop over those alone (a long stream builds thousands of events; bench B5)."""
    converted = tuple((name, convert) for name, convert in _converters(cls).items() if convert is not _identity)

    def build(data: Mapping[str, Any]) -> Any:
        values = dict(data)
        for name, convert in converted:
            if name in values:
                values[name] = convert(values[name])
        return cls(**values)

    return build


@functools.cache
def _converters(cls: Any) -> dict[str, Callable[[Any], Any]]:
    """{init field: its JSON-to-value function}, worked out once per class: resolving the annotations
    (typing.get_type_hints) on every load was most of the cost of loading a long stream."""
    hints = typing.get_type_hints(cls)
    return {field.name: _converter(hints[field.name]) for field in dataclasses.fields(cls) if field.init}


def canonical_json(value: object) -> bytes:
    """Deterministic bytes for hashing: sorted keys, no spaces, ASCII only, no NaN."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def _to_json(value: object) -> Any:
    match value:
        case None | bool() | int():
            return value
        case str():
            return storable_text(value)
        case float():
            raise CodecError("floats are not stored; use integer minor units or Decimal")
        case UUID():
            return str(value)
        case datetime():
            if value.tzinfo is None:
                raise CodecError("naive datetimes are not stored; attach a time zone")
            return value.isoformat()
        case date():
            return value.isoformat()
        case Decimal():
            return str(value)
        case Enum():
            return _to_json(value.value)
        case tuple() | list():
            return [_to_json(item) for item in value]
        case _ if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dump(value)
        case dict():
            return {str(key): _to_json(item) for key, item in value.items()}
    raise CodecError(f"cannot encode a value of type {type(value).__name__}")


def storable_text(value: str) -> str:
    """`value`, or CodecError if PostgreSQL's jsonb and text would reject it (NUL, lone surrogates)."""
    if "\x00" in value:
        raise CodecError("text must not contain NUL characters (\\u0000)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise CodecError("text must not contain lone surrogates") from None
    return value


def _from_json(hint: Any, value: Any) -> Any:
    return _converter(hint)(value)


def _identity(value: Any) -> Any:
    return value


@functools.cache
def _converter(hint: Any) -> Callable[[Any], Any]:
    """The function that turns a JSON value into a value of type `hint` (cached: built once per hint)."""
    origin = get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        nullable = type(None) in get_args(hint)
        options = [arg for arg in get_args(hint) if arg is not type(None)]
        inner = _converter(options[0]) if len(options) == 1 else _identity
        return (lambda value: None if value is None else inner(value)) if nullable else inner
    if origin is typing.Literal:
        allowed = get_args(hint)

        def literal(value: Any) -> Any:
            if value not in allowed:
                raise CodecError(f"{value!r} is not one of {allowed}")
            return value

        return literal
    if origin is tuple:
        args = get_args(hint)
        item = _converter(args[0] if args else Any)
        return lambda value: tuple(item(element) for element in value)
    if origin is dict or hint is Any or origin is typing.ClassVar or not isinstance(hint, type):
        return _identity
    return _scalar_converter(hint)


def _scalar_converter(hint: type) -> Callable[[Any], Any]:
    if dataclasses.is_dataclass(hint):
        return lambda value: load(hint, value)
    if issubclass(hint, Enum):
        return hint
    parsers: dict[type, Callable[[Any], Any]] = {
        UUID: _uuid,
        datetime: datetime.fromisoformat,
        date: date.fromisoformat,
        Decimal: Decimal,
        int: _integer,
        str: _string,
    }
    return parsers.get(hint, _identity)


# Events of one stream repeat the same ids (every event of an account names it), and a UUID is immutable, so
# parsed ones are shared: parsing was a sixth of decoding an event (bench B5). Bounded: a rebuild reads them all.
_uuid = functools.lru_cache(maxsize=4096)(UUID)


def _integer(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise CodecError(f"expected an integer, got {value!r}")
    return value


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise CodecError(f"expected a string, got {value!r}")
    return value


codec = Codec()
