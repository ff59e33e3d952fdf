"""Invoiced tasks in the graph: the `Task` type, its queries and mutations."""

from gateway.api.cost import fixed, list_page
from gateway.plugin import VendorGraphQL

from .operations import InvoicedMutation, InvoicedQuery
from .types import Task, TaskAction

GRAPHQL = VendorGraphQL(
    query=InvoicedQuery,
    mutation=InvoicedMutation,
    costs={("Query", "tasks"): list_page, ("Query", "task"): fixed(1)},
)

__all__ = ["GRAPHQL", "InvoicedMutation", "InvoicedQuery", "Task", "TaskAction"]
