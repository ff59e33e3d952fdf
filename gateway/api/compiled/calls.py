"""Resolver calls specialised once per field, when the plan is compiled: what
Strawberry's per-call wrapper decides on every call (which parameters the resolver
takes, which field extensions wrap it and how, how its arguments convert) is decided
here once, and a call only does what is left. A field whose shape this does not
reproduce exactly (exception handlers, extensions that reshape arguments, input
objects among its arguments, a field class with its own result) keeps the wrapper."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from graphql import FieldNode, GraphQLField, Undefined, get_named_type, is_leaf_type
from strawberry.extensions.field_extension import FieldExtension, build_field_extension_resolvers
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

_DEFINITION = "strawberry-definition"
# Converted once and shared by every request: only values no resolver can change.
_IMMUTABLE = (str, int, float, bool, type(None))


class DirectCall:
    """One resolver field's call: ``call(source, info, coerced)``, where ``info``
    is graphql-core's resolve info (None when ``takes_info`` is false) and
    ``coerced`` the arguments graphql-core coerced."""

    __slots__ = (
        "_arguments",
        "_config",
        "_extensions",
        "_field",
        "_info_class",
        "_info_name",
        "_registry",
        "_resolver",
        "_self_source",
        "_source_names",
        "converted",
        "takes_info",
    )

    def __init__(self, field: StrawberryField, converter: Any) -> None:
        resolver = field.base_resolver
        assert resolver is not None
        self._field = field
        self._resolver = resolver
        self._arguments = field.arguments
        self._config = converter.config
        self._registry = converter.scalar_registry
        self._info_class = converter.config.info_class
        self._self_source = resolver.self_parameter is not None
        self._source_names = tuple(
            parameter.name
            for parameter in (resolver.parent_parameter, resolver.root_parameter)
            if parameter is not None
        )
        info_parameter = resolver.info_parameter
        self._info_name = info_parameter.name if info_parameter is not None else None
        # The same chain Strawberry builds, in its order, sync or async as it decides.
        self._extensions = build_field_extension_resolvers(field)
        self.takes_info = self._info_name is not None or bool(self._extensions)
        self.converted: dict[str, Any] | None = None

    def convert_once(self, coerced: dict[str, Any] | None) -> None:
        """Arguments without variables, converted now when every value is immutable."""
        if coerced is None or not all(isinstance(v, _IMMUTABLE) for v in coerced.values()):
            return
        try:
            self.converted = self._convert(coerced)
        except Exception:
            # Converted per request, so the error is the field's.
            self.converted = None

    def _convert(self, coerced: dict[str, Any]) -> dict[str, Any]:
        return convert_arguments(coerced, self._arguments, self._registry, self._config)

    def call(self, source: Any, raw_info: Any, coerced: dict[str, Any]) -> Any:
        converted = self.converted
        kwargs = dict(converted) if converted is not None else self._convert(coerced)
        for name in self._source_names:
            kwargs[name] = source
        args = (source,) if self._self_source else ()
        if not self.takes_info:
            return self._resolver(*args, **kwargs)
        info = self._info_class(_raw_info=raw_info, _field=self._field)
        if not self._extensions:
            kwargs[self._info_name or "info"] = info
            return self._resolver(*args, **kwargs)
        return self._chain(args)(source, info, **kwargs)

    def _chain(self, args: tuple[Any, ...]) -> Callable[..., Any]:
        resolver = self._resolver
        info_name = self._info_name

        def innermost(_source: Any, info: Any, **kwargs: Any) -> Any:
            if info_name is not None:
                kwargs[info_name] = info
            return resolver(*args, **kwargs)

        chained: Callable[..., Any] = innermost
        for extension in self._extensions:
            chained = partial(extension, chained)
        return chained


def direct_call(
    schema: Any, definition: GraphQLField, node: FieldNode, coerced: dict[str, Any] | None
) -> DirectCall | None:
    """The field's specialised call, or None: it goes through Strawberry's wrapper."""
    field = (definition.extensions or {}).get(_DEFINITION)
    converter = getattr(getattr(schema, "_strawberry_schema", None), "schema_converter", None)
    if not _plain_resolver_field(field, converter) or not _leaf_arguments(definition, node):
        return None
    assert isinstance(field, StrawberryField)
    call = DirectCall(field, converter)
    call.convert_once(coerced)
    return call


def _plain_resolver_field(field: Any, converter: Any) -> bool:
    if type(field) is not StrawberryField or field.base_resolver is None or converter is None:
        return False
    if field.is_subscription or converter._get_field_exception_handlers(field):
        return False
    # Strawberry hands the info to extensions as "info" only; another name is a kwarg
    # the extensions see, which this does not reproduce.
    info = field.base_resolver.info_parameter
    if field.extensions and info is not None and info.name != "info":
        return False
    return all(
        type(extension).map_arguments is FieldExtension.map_arguments
        for extension in field.extensions
    )


def _leaf_arguments(definition: GraphQLField, node: FieldNode) -> bool:
    """Whether every argument the call can be given is a scalar or an enum (or a list
    of them): input objects may build their own value from the info. An input-object
    argument the operation leaves out, with no default or a null one, converts to
    nothing or to None, without the info."""
    given = {argument.name.value for argument in node.arguments or ()}
    return all(
        is_leaf_type(get_named_type(argument.type))
        or (name not in given and argument.default_value in (Undefined, None))
        for name, argument in definition.args.items()
    )
