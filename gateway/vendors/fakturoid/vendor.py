"""The Fakturoid vendor constant, in a module of its own: the package's other modules
import it from here, never from the package (whose PLUGIN sits above them)."""

from __future__ import annotations

from gateway.core.types import Vendor

FAKTUROID = Vendor("fakturoid", "Fakturoid")

# The type of a todo's global id: what the GraphQL layer encodes and change events name.
TODO_TYPE = "Todo"
