"""The Zoho Invoice vendor constant, in a module of its own: the package's other modules
import it from here, never from the package (whose PLUGIN sits above them)."""

from __future__ import annotations

from gateway.core.types import Vendor

ZOHO = Vendor("zoho", "Zoho Invoice")

# The types of the global ids: what the GraphQL layer encodes, change events name and
# the read cache's per-item generations key on, so all three agree.
PROJECT_TYPE, PROJECT_TASK_TYPE = "Project", "ProjectTask"
