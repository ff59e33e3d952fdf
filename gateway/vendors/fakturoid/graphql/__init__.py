"""Fakturoid todos in the graph: `Todo`, the `todos`/`todo` queries, `toggleTodoCompletion`."""

from .operations import FakturoidMutation, FakturoidQuery, TodoPayload
from .types import Todo, TodoRelatedObject, TodoRelatedType

__all__ = [
    "FakturoidMutation",
    "FakturoidQuery",
    "Todo",
    "TodoPayload",
    "TodoRelatedObject",
    "TodoRelatedType",
]
