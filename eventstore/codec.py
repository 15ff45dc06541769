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
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar, get_args, get_origin
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
    """Build `cls` from a dict made by `dump`, converting each field by its annotation."""
    hints = typing.get_type_hints(cls)
    fields = {field.name for field in dataclasses.fields(cls) if field.init}  # type: ignore[arg-type]
    unknown = set(data) - fields
    if unknown:
        raise CodecError(f"{cls.__name__} has no field(s) {sorted(unknown)}")
    try:
        return cls(**{name: _from_json(hints[name], value) for name, value in data.items()})
    except (TypeError, ValueError) as exc:
        raise CodecError(f"cannot build {cls.__name__}: {exc}") from exc


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
    origin = get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in get_args(hint):
            return None
        options = [arg for arg in get_args(hint) if arg is not type(None)]
        return _from_json(options[0], value) if len(options) == 1 else value
    if origin is typing.Literal:
        if value not in get_args(hint):
            raise CodecError(f"{value!r} is not one of {get_args(hint)}")
        return value
    if origin is tuple:
        args = get_args(hint)
        item_hint = args[0] if args else Any
        return tuple(_from_json(item_hint, item) for item in value)
    if origin is dict or hint is Any or origin is typing.ClassVar:
        return value
    if isinstance(hint, type):
        return _scalar_from_json(hint, value)
    return value


def _scalar_from_json(hint: type, value: Any) -> Any:
    if dataclasses.is_dataclass(hint):
        return load(hint, value)
    if issubclass(hint, Enum):
        return hint(value)
    if hint is UUID:
        return UUID(value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is date:
        return date.fromisoformat(value)
    if hint is Decimal:
        return Decimal(value)
    if hint is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise CodecError(f"expected an integer, got {value!r}")
    if hint is str and not isinstance(value, str):
        raise CodecError(f"expected a string, got {value!r}")
    return value


codec = Codec()
