"""Zoho Invoice projects and project tasks in the graph.

`ProjectTask` implements the shared `WorkItem` interface, so `workItems` holds it
next to the other vendors' actionable items.
"""

from gateway.api.cost import FieldCost, first_of, fixed, list_page
from gateway.plugin import VendorGraphQL

from .operations import ZohoMutation, ZohoQuery
from .types import Project, ProjectTask

GRAPHQL = VendorGraphQL(
    query=ZohoQuery,
    mutation=ZohoMutation,
    costs={
        ("Query", "projects"): list_page,
        ("Query", "project"): fixed(1),
        ("Query", "projectTask"): fixed(1),
        # The tasks loader is keyed by project: one call per project.
        ("Project", "tasks"): lambda args: FieldCost(calls=1, items=first_of(args)),
        ("ProjectTask", "project"): fixed(1),
        # Missing from Zoho's list rows: read through the by-id project loader (shared
        # by both fields, so counting each is an upper bound).
        ("Project", "currencyCode"): fixed(1),
        ("Project", "unbilledHours"): fixed(1),
    },
)

__all__ = ["GRAPHQL", "Project", "ProjectTask", "ZohoMutation", "ZohoQuery"]
