"""Zoho Invoice projects and project tasks in the graph.

`ProjectTask` implements the shared `WorkItem` interface, so a later cross-vendor
list can hold it next to Invoiced tasks and Fakturoid todos.
"""

from .operations import ZohoMutation, ZohoQuery
from .types import Project, ProjectTask

__all__ = ["Project", "ProjectTask", "ZohoMutation", "ZohoQuery"]
