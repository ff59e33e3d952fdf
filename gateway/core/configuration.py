"""What an operator reads when the environment is wrong: every problem names its
environment variable, and no value of a secret is ever repeated.

- :class:`ConfigurationError`: a setting the gateway cannot start with; `task-gateway`
  prints its lines and exits with status 2 (no traceback).
- :func:`read_section`: a settings section read from the environment, its pydantic
  errors turned into ``GATEWAY_MAX_DEPTH: must be an integer >= 1 (got "abc")`` lines.
- :func:`setup_of`: whether a section's required variables are all set, none, or
  only some (and which are missing), from the alternatives it declares.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import annotated_types
from pydantic import SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

S = TypeVar("S", bound=BaseSettings)

# A value longer than this is cut in messages: a pasted file is no use on one line.
_SHOWN_INPUT = 60


class ConfigurationError(ValueError):
    """Settings the gateway cannot start with: one line per problem, each naming its
    variable (``GATEWAY_PERSISTED_DOCUMENTS: cannot read /etc/docs.json: no such file``)."""

    def __init__(self, *problems: str) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def env_name(section: type[BaseSettings], field: str) -> str:
    """The environment variable that sets ``field`` of ``section``."""
    prefix = str(section.model_config.get("env_prefix", ""))
    return f"{prefix}{field}".upper()


def read_section(section: type[S]) -> S:
    """``section`` read from the environment, or a ConfigurationError naming each bad
    variable (pydantic's own text echoes values, secrets included, and names fields)."""
    try:
        return section()
    except ValidationError as exc:
        raise ConfigurationError(*_problems(section, exc)) from None


def _problems(section: type[BaseSettings], exc: ValidationError) -> list[str]:
    problems: list[str] = []
    for error in exc.errors(include_url=False):
        location = error["loc"]
        message = str(error["msg"]).removeprefix("Value error, ")
        field = str(location[0]) if location else None
        info = section.model_fields.get(field) if field else None
        if field is None or info is None:
            # A check across fields: its message names the variables itself.
            problems.append(message)
            continue
        # Custom checks say what is wrong in their own words; type and bound errors get
        # the field's whole requirement, read from its declaration.
        wanted = message if error["type"] == "value_error" else f"must be {_requirement(info)}"
        problems.append(f"{env_name(section, field)}: {wanted}{_shown(info, error['input'])}")
    return problems


def _shown(info: FieldInfo, value: object) -> str:
    if _is_secret(info.annotation) or not isinstance(value, str | int | float):
        return ""
    text = str(value)
    if len(text) > _SHOWN_INPUT:
        text = text[:_SHOWN_INPUT] + "..."
    return f' (got "{text}")'


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or any(_is_secret(arg) for arg in get_args(annotation))


def _base_type(annotation: Any) -> Any:
    """``int`` for ``int | None``: the type a set variable must have."""
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _base_type(args[0]) if len(args) == 1 else annotation
    return annotation


_KINDS = {int: "an integer", float: "a number", bool: "true or false", str: "text"}
_BOUNDS = (
    (annotated_types.Ge, "ge", ">="),
    (annotated_types.Gt, "gt", ">"),
    (annotated_types.Le, "le", "<="),
    (annotated_types.Lt, "lt", "<"),
)


def _requirement(info: FieldInfo) -> str:
    """What a field accepts, in words: ``an integer >= 1``, ``one of json, text``."""
    annotation = _base_type(info.annotation)
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(str(choice) for choice in get_args(annotation))
    text = _KINDS.get(annotation, "a valid value")
    for constraint in info.metadata:
        for kind, attribute, sign in _BOUNDS:
            if isinstance(constraint, kind):
                text += f" {sign} {getattr(constraint, attribute):g}"
    return text


class SetupState(StrEnum):
    ON = "on"
    OFF = "off"
    PARTIAL = "partial"


@dataclass(frozen=True, slots=True)
class Setup:
    """How far a section's required variables are set.

    ``missing``: for a partly set section, the variables still to set, one tuple per
    way of completing it that is closest to done (most variables already set).
    ``used``: the variables of the first complete way, when on. ``to_set``: the
    variables of the first declared way, for a section that is off.
    """

    state: SetupState
    missing: tuple[tuple[str, ...], ...] = ()
    used: tuple[str, ...] = ()
    to_set: tuple[str, ...] = ()
    alternatives: tuple[tuple[str, ...], ...] = ()

    @property
    def configured(self) -> bool:
        return self.state is SetupState.ON

    def describe_missing(self) -> str:
        """``ZOHO_ACCESS_TOKEN (or else ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET)``."""
        first, *others = [", ".join(names) for names in self.missing] or [""]
        return first + "".join(f" (or else {other})" for other in others)

    def describe_to_set(self) -> str:
        """Every way of turning the section on: ``A, B (or A, C)``."""
        first, *others = [", ".join(names) for names in self.alternatives] or [""]
        return first + "".join(f" (or {other})" for other in others)


def is_set(value: object) -> bool:
    """An empty or blank variable (common in .env files) means "not set"."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return value is not None and str(value).strip() != ""


def setup_of(section: BaseSettings, alternatives: Sequence[Sequence[str]]) -> Setup:
    """``section``'s state given the ``alternatives`` (field names) that each turn it on;
    no alternative at all means nothing is needed: always on."""
    if not alternatives:
        return Setup(SetupState.ON)
    cls = type(section)
    named = tuple(tuple(env_name(cls, field) for field in way) for way in alternatives)
    given = [[is_set(getattr(section, field)) for field in way] for way in alternatives]
    for names, flags in zip(named, given, strict=True):
        if all(flags):
            return Setup(SetupState.ON, used=names, alternatives=named)
    most = max(sum(flags) for flags in given)
    if most == 0:
        return Setup(SetupState.OFF, to_set=named[0], alternatives=named)
    closest = sorted(
        (
            tuple(name for name, flag in zip(names, flags, strict=True) if not flag)
            for names, flags in zip(named, given, strict=True)
            if sum(flags) == most
        ),
        key=len,
    )
    return Setup(SetupState.PARTIAL, missing=tuple(closest), to_set=named[0], alternatives=named)
