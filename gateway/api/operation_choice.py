"""Which operation of a document to run: the GraphQL spec's GetOperation.

Strawberry runs the first operation of a document when no ``operationName`` is
given, even when the document holds several; the spec makes that a request
error, so a client never gets the answer to an operation it did not choose.
"""

from __future__ import annotations

from graphql import OperationDefinitionNode
from strawberry.types import ExecutionContext

from gateway.core.errors import BadRequest


def require_operation_name(context: ExecutionContext) -> None:
    """Refuses a document of several operations sent without ``operationName``
    (HTTP 400 ``BAD_REQUEST``); run right after parsing and before validation."""
    document = context.graphql_document
    # The name the client sent: the public ``operation_name`` falls back to the first.
    provided: str | None = getattr(context, "_provided_operation_name", None)
    if document is None or provided is not None:
        return
    names = [
        definition.name.value if definition.name else "(anonymous)"
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
    ]
    if len(names) > 1:
        raise BadRequest(
            f"The document has {len(names)} operations ({', '.join(names)}): "
            "say which one to run with `operationName`."
        )
