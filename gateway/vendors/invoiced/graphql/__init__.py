"""Invoiced tasks in the graph: the `Task` type, its queries and mutations."""

from gateway.api.cost import counted_list_page, fixed
from gateway.plugin import VendorGraphQL

from .operations import InvoicedMutation, InvoicedQuery
from .types import Task, TaskAction

GRAPHQL = VendorGraphQL(
    query=InvoicedQuery,
    mutation=InvoicedMutation,
    costs={
        # `last` without `before` reads the total first: a one-row page carries it.
        ("Query", "tasks"): counted_list_page(1),
        ("Query", "task"): fixed(1),
    },
)

__all__ = ["GRAPHQL", "InvoicedMutation", "InvoicedQuery", "Task", "TaskAction"]
