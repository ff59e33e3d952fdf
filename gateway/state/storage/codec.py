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
    if isinstance(value, enum.Enum):
        return {TAG: "enum", "class": _name(type(value)), "value": _plain(value.value)}
    if isinstance(value, datetime):
        return {TAG: "datetime", "value": value.isoformat()}
    if isinstance(value, date):
        return {TAG: "date", "value": value.isoformat()}
    if isinstance(value, Decimal):
        return {TAG: "decimal", "value": str(value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {TAG: "dataclass", "class": _name(type(value)), "fields": fields}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, tuple):
        return {TAG: "tuple", "items": [_plain(item) for item in value]}
    if isinstance(value, frozenset | set):
        kind = "frozenset" if isinstance(value, frozenset) else "set"
        return {TAG: kind, "items": [_plain(item) for item in value]}
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {TAG: "dict", "items": {key: _plain(item) for key, item in value.items()}}
    raise NotSerialisable(f"cannot keep a {type(value).__name__} for replay")


def _rebuilt(value: Any) -> object:
    if isinstance(value, list):
        return [_rebuilt(item) for item in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(TAG)
    if tag == "enum":
        return _trusted(value["class"], enum.Enum)(_rebuilt(value["value"]))
    if tag == "datetime":
        return datetime.fromisoformat(value["value"])
    if tag == "date":
        return date.fromisoformat(value["value"])
    if tag == "decimal":
        return Decimal(value["value"])
    if tag == "dataclass":
        cls = _trusted(value["class"], object)
        if not dataclasses.is_dataclass(cls):
            raise NotSerialisable(f"{value['class']} is not a dataclass")
        return cast(Any, cls)(**{name: _rebuilt(item) for name, item in value["fields"].items()})
    if tag == "tuple":
        return tuple(_rebuilt(item) for item in value["items"])
    if tag == "frozenset":
        return frozenset(_rebuilt(item) for item in value["items"])
    if tag == "set":
        return {_rebuilt(item) for item in value["items"]}
    if tag == "dict":
        return {key: _rebuilt(item) for key, item in value["items"].items()}
    raise NotSerialisable(f"unknown tag {tag!r}")


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
