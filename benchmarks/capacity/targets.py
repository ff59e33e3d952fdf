"""What the users read and the changer changes, found by walking ``workItems`` once.

The first page by due date is Invoiced tasks; Fakturoid todos sit further down and Zoho
tasks (no due date) last, so the items users read by id are a pool of each vendor's first
ones in the list: the by-id reads reach every vendor, Fakturoid's list-only todos too.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import orjson

POOL_PER_VENDOR = 8
# An item as every query here reads it: enough to tell whether a change shows.
PAGE = (
    "query Page($after: String) { workItems(first: 20, after: $after, "
    "orderBy: [{field: DUE_AT}]) { pageInfo { hasNextPage endCursor } "
    "nodes { id title completed } } }"
)
FIRST_PAGE = "{ workItems(first: 20, orderBy: [{field: DUE_AT}]) { nodes { id title completed } } }"
BY_ID = "query Item($id: ID!) { node(id: $id) { ... on WorkItem { id title completed } } }"


@dataclass(frozen=True)
class Targets:
    first_page: list[str]  # global ids
    by_id: dict[str, list[str]]  # vendor -> global ids users read one by one
    completed: dict[str, bool]  # of the by-id items, as the walk found them

    def save(self, path: Path) -> None:
        path.write_bytes(orjson.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> Targets:
        raw = orjson.loads(path.read_bytes())
        return cls(first_page=raw["first_page"], by_id=raw["by_id"], completed=raw["completed"])

    def pool(self) -> list[str]:
        """The by-id items interleaved across vendors, so any stretch of it mixes them."""
        lists = list(self.by_id.values())
        return [ids[n] for n in range(POOL_PER_VENDOR) for ids in lists if n < len(ids)]


def vendor_of(global_id: str) -> tuple[str, str]:
    """(vendor, vendor id) of a global id: base64url of ``vendor:Type:vendorId``."""
    vendor, _, vendor_id = base64.urlsafe_b64decode(global_id + "==").decode().split(":", 2)
    return vendor, vendor_id


def walk(url: str, key: str) -> Targets:
    """Every page of ``workItems`` by due date, read once before the users start."""
    by_id: dict[str, list[str]] = {}
    first_page: list[str] = []
    completed: dict[str, bool] = {}
    after = None
    while True:
        answer = httpx.post(url, json={"query": PAGE, "variables": {"after": after}},
                            headers={"x-api-key": key}, timeout=60).json()  # fmt: skip
        if answer.get("errors"):
            raise SystemExit(f"walking workItems failed: {answer['errors']}")
        connection = answer["data"]["workItems"]
        first_page = first_page or [node["id"] for node in connection["nodes"]]
        for node in connection["nodes"]:
            found = by_id.setdefault(vendor_of(node["id"])[0], [])
            if len(found) < POOL_PER_VENDOR:
                found.append(node["id"])
                completed[node["id"]] = node["completed"]
        if not connection["pageInfo"]["hasNextPage"]:
            return Targets(first_page=first_page, by_id=by_id, completed=completed)
        after = connection["pageInfo"]["endCursor"]
