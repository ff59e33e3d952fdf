"""The one check of federation `_entities` representations.

Strawberry's federation resolver trusts each representation: `{}` or an unknown
`__typename` fails the whole field, and a missing or extra key reaches
`resolve_reference` as a TypeError (masked as INTERNAL_SERVER_ERROR). Here every
representation is checked first; a malformed one becomes BAD_USER_INPUT in its
own slot (`["_entities", i]`) and the well-formed ones around it still resolve.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection
from typing import Any

from gateway.api.node import node_id
from gateway.core.errors import BadUserInput, GatewayError
from gateway.core.ids import decode_id
from gateway.core.principal import Access, Principal

FIELD = "representations"
KEYS = frozenset({"__typename", "id"})
# Client text quoted back in a message is cut short.
QUOTE_LIMIT = 60

Resolve = Callable[[list[Any]], list[Any]]


def _quote(value: str) -> str:
    return repr(value if len(value) <= QUOTE_LIMIT else value[:QUOTE_LIMIT] + "…")


def check_representation(representation: object, entity_types: Collection[str]) -> dict[str, Any]:
    """A fresh copy of a well-formed representation, or BAD_USER_INPUT saying what is wrong."""
    if not isinstance(representation, dict):
        raise BadUserInput(
            "A representation must be an object with `__typename` and `id`.", field=FIELD
        )
    type_name = representation.get("__typename")
    if not isinstance(type_name, str):
        raise BadUserInput("A representation needs a `__typename` string.", field=FIELD)
    if type_name not in entity_types:
        raise BadUserInput(
            f"{_quote(type_name)} is not an entity type of this subgraph.", field=FIELD
        )
    extra = sorted(str(key) for key in representation.keys() - KEYS)
    if extra:
        names = ", ".join(_quote(key) for key in extra[:5])
        raise BadUserInput(
            f"A {type_name} representation takes only `__typename` and `id`, not {names}.",
            field=FIELD,
        )
    raw_id = representation.get("id")
    if not isinstance(raw_id, str):
        raise BadUserInput(f"A {type_name} representation needs an `id` string.", field=FIELD)
    try:
        global_id, _ = node_id(raw_id)
    except BadUserInput as error:
        raise BadUserInput(error.message, field=FIELD) from error
    if global_id.type_name != type_name:
        raise BadUserInput(
            f"The id is that of a {global_id.type_name}, not a {type_name}.", field=FIELD
        )
    return {"__typename": type_name, "id": raw_id}


async def _as_representation_error(pending: Any) -> Any:
    # Key formats are checked where the key is built (e.g. a numeric id), inside
    # resolve_reference; the client should still hear about `representations`.
    try:
        return await pending
    except BadUserInput as error:
        raise BadUserInput(error.message, field=FIELD) from error


def _renamed(result: Any) -> Any:
    if isinstance(result, BadUserInput):
        return BadUserInput(result.message, field=FIELD)
    if inspect.isawaitable(result):
        return _as_representation_error(result)
    return result


def resolve_entities(
    representations: list[Any],
    entity_types: Collection[str],
    resolve: Resolve,
    principal: Principal,
) -> list[Any]:
    """Each representation's entity (or awaitable of it), or the error for its slot.

    ``resolve`` is Strawberry's own resolver, given only the well-formed ones that
    ``principal`` may read (FORBIDDEN in the slot of the others).
    """
    checked: list[dict[str, Any] | GatewayError] = []
    for representation in representations:
        try:
            valid = check_representation(representation, entity_types)
            principal.require(decode_id(valid["id"]).vendor, Access.READ)
            checked.append(valid)
        except GatewayError as error:
            checked.append(error)
    resolved = iter(resolve([r for r in checked if not isinstance(r, GatewayError)]))
    # graphql-core raises an Exception found in a list at that item's own path.
    return [r if isinstance(r, GatewayError) else _renamed(next(resolved)) for r in checked]
