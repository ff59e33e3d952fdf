"""A second, small subgraph that extends the gateway's `Task` entity with notes.

It stands in for another team's service in a company supergraph: it knows only
task ids, and relies on the gateway subgraph for everything else.
"""

from __future__ import annotations

import strawberry
from strawberry.asgi import GraphQL

from gateway.core.ids import encode_id
from gateway.vendors.invoiced import INVOICED

PINNED = [encode_id(INVOICED, "Task", 700), encode_id(INVOICED, "Task", 702)]
NOTES = {PINNED[0]: "Customer prefers calls after 2 pm.", PINNED[1]: "Copy the CFO."}


@strawberry.federation.type(keys=["id"])
class Task:
    id: strawberry.ID

    @strawberry.field
    def note(self) -> str | None:
        return NOTES.get(self.id)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Task:
        return cls(id=id)


@strawberry.type
class Query:
    @strawberry.field
    def pinned_tasks(self) -> list[Task]:
        return [Task(id=strawberry.ID(task_id)) for task_id in PINNED]


schema = strawberry.federation.Schema(query=Query)


def create_app() -> GraphQL[None, None]:
    return GraphQL(schema, graphql_ide=None)
