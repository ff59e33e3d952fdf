"""Answers and intents as JSON, so another process can replay them.

Idempotent writes answer with the vendors' model objects (frozen dataclasses of
plain values, enums and datetimes) and record intents (a bool, a frozenset of
ids). Rather than pickle -- which would let whoever can write to Redis run code
in the gateway -- values are tagged JSON, and only dataclasses and enums defined
in the gateway's own modules are rebuilt.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

import orjson

TAG = "$t"
TRUSTED_MODULE = "gateway."


class NotSerialisable(TypeError):
    """A value the codec has no form for."""


def encode(value: object) -> bytes:
    return orjson.dumps(_plain(value))


def decode(data: bytes) -> object:
    return _rebuilt(orjson.loads(data))


def _plain(value: object) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    exact = _BY_TYPE.get(type(value))
    if exact is not None:
        return exact(value)
    for kinds, plain in _LEAVES:
        if isinstance(value, kinds):
            return plain(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {TAG: "dataclass", "class": _name(type(value)), "fields": fields}
    for kinds, plain in _CONTAINERS:
        if isinstance(value, kinds):
            return plain(value)
    raise NotSerialisable(f"cannot keep a {type(value).__name__} for replay")


def _plain_dict(value: dict[Any, Any]) -> Any:
    if not all(isinstance(key, str) for key in value):
        raise NotSerialisable(f"cannot keep a {type(value).__name__} for replay")
    return {TAG: "dict", "items": {key: _plain(item) for key, item in value.items()}}


def _plain_set(value: frozenset[Any] | set[Any]) -> Any:
    kind = "frozenset" if isinstance(value, frozenset) else "set"
    return {TAG: kind, "items": [_plain(item) for item in value]}


_Plain = tuple[type, Callable[[Any], Any]]
# Tried in this order (a datetime is also a date): the leaves before the dataclass
# check, the containers after it.
_LEAVES: tuple[_Plain, ...] = (
    (enum.Enum, lambda v: {TAG: "enum", "class": _name(type(v)), "value": _plain(v.value)}),
    (datetime, lambda v: {TAG: "datetime", "value": v.isoformat()}),
    (date, lambda v: {TAG: "date", "value": v.isoformat()}),
    (Decimal, lambda v: {TAG: "decimal", "value": str(v)}),
)
_CONTAINERS: tuple[_Plain, ...] = (
    (list, lambda v: [_plain(item) for item in v]),
    (tuple, lambda v: {TAG: "tuple", "items": [_plain(item) for item in v]}),
    (frozenset, _plain_set),
    (set, _plain_set),
    (dict, _plain_dict),
)
# Most values are of these very types, which are neither enums nor dataclasses: they
# skip the ordered search, whose answer for them would be the same.
_BY_TYPE: dict[type, Callable[[Any], Any]] = dict((*_LEAVES, *_CONTAINERS))


def _rebuilt(value: Any) -> object:
    if isinstance(value, list):
        return [_rebuilt(item) for item in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(TAG)
    rebuild = _REBUILDERS.get(tag) if isinstance(tag, str) else None
    if rebuild is None:
        raise NotSerialisable(f"unknown tag {tag!r}")
    return rebuild(value)


def _rebuilt_dataclass(value: dict[str, Any]) -> object:
    cls = _trusted(value["class"], object)
    if not dataclasses.is_dataclass(cls):
        raise NotSerialisable(f"{value['class']} is not a dataclass")
    return cast(Any, cls)(**{name: _rebuilt(item) for name, item in value["fields"].items()})


# Each tag, and how its value is rebuilt from the JSON object carrying it.
_REBUILDERS: dict[str, Callable[[dict[str, Any]], object]] = {
    "enum": lambda v: _trusted(v["class"], enum.Enum)(_rebuilt(v["value"])),
    "datetime": lambda v: datetime.fromisoformat(v["value"]),
    "date": lambda v: date.fromisoformat(v["value"]),
    "decimal": lambda v: Decimal(v["value"]),
    "dataclass": _rebuilt_dataclass,
    "tuple": lambda v: tuple(_rebuilt(item) for item in v["items"]),
    "frozenset": lambda v: frozenset(_rebuilt(item) for item in v["items"]),
    "set": lambda v: {_rebuilt(item) for item in v["items"]},
    "dict": lambda v: {key: _rebuilt(item) for key, item in v["items"].items()},
}


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _trusted(name: str, base: type) -> Any:
    module_name, _, qualname = name.partition(":")
    if not module_name.startswith(TRUSTED_MODULE):
        raise NotSerialisable(f"{module_name} is not one of the gateway's modules")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    if not (isinstance(target, type) and issubclass(target, base)):
        raise NotSerialisable(f"{name} is not a {base.__name__}")
    return target
