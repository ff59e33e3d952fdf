"""Zoho Invoice projects and tasks end to end: client -> gateway -> adapter -> Zoho sandbox.

Call counts are taken from the accounting extension. A fresh gateway's first
request also fetches an OAuth token from the accounts server, so API calls are
told apart from token calls by the recorded path: the token call is the one to
`.../oauth/v2/token`; API calls are recorded relative to the API URL.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.core.ids import encode_id
from gateway.vendors.invoiced import INVOICED
from gateway.vendors.zoho import ZOHO
from gateway.vendors.zoho.sandbox import ORGANIZATION_ID
from tests.conftest import Gateway, codes

STOREFRONT = "903000000072369"  # four tasks, fixed cost, rate "8500.00"
LISTING_API = "903000000072453"  # six tasks
DISCOVERY = "903000000073001"  # first task of STOREFRONT: 06:00 logged and billed
VISUAL_DESIGN = "903000000073029"  # third task of STOREFRONT: 20:15 logged, 10:00 billed
ALL_PROJECTS = 8
TOKEN_PATH = "/oauth/v2/token"

TASK_FIELDS = """id zohoId zohoProjectId title name description rate budgetHours
  loggedHours billedHours unbilledHours isBillable status vendor completed dueAt url"""


def project_id(pid: str) -> str:
    return encode_id(ZOHO, "Project", pid)


def task_id(pid: str, tid: str) -> str:
    return encode_id(ZOHO, "ProjectTask", pid, tid)


def api_calls(body: dict[str, Any]) -> list[dict[str, Any]]:
    calls = body["extensions"]["upstreamCalls"]["calls"]
    return [c for c in calls if c["vendor"] == "zoho" and not c["path"].endswith(TOKEN_PATH)]


def zoho_calls(body: dict[str, Any]) -> int:
    by_vendor = body["extensions"]["upstreamCalls"]["byVendor"]
    return int(by_vendor.get("zoho", {"count": 0})["count"])


async def warm_up(gateway: Gateway) -> None:
    """Fetch the token first, so later counts hold API calls only."""
    body = await gateway.execute(f'{{ project(id: "{project_id(STOREFRONT)}") {{ name }} }}')
    assert "errors" not in body, body


async def test_project_fields_hours_and_amounts(gateway: Gateway) -> None:
    body = await gateway.execute(
        """query($id: ID!) { project(id: $id) {
             id zohoId name code customerId customerName currencyCode description status
             billingType rate budgetType totalHours billableHours unbilledHours
             createdAt updatedAt url } }""",
        {"id": project_id(STOREFRONT)},
    )
    project = body["data"]["project"]
    assert project == {
        "id": project_id(STOREFRONT),
        "zohoId": STOREFRONT,
        "name": "Storefront Website Redesign",
        "code": "HLB-WEB",
        "customerId": "903000000000099",
        "customerName": "Harbor Lane Bakery",
        "currencyCode": "USD",
        "description": "Storefront Website Redesign for Harbor Lane Bakery.",
        "status": "ACTIVE",
        "billingType": "FIXED_COST_FOR_PROJECT",
        # Zoho sends "8500.00"; the gateway keeps it exact as a Decimal.
        "rate": "8500.00",
        "budgetType": "total_project_cost",
        # 360 + 690 + 1215 + 845 minutes
        "totalHours": 51.8333,
        "billableHours": 51.8333,
        "unbilledHours": 24.3333,  # 615 + 845 minutes
        "createdAt": "2026-01-06T09:15:00+05:30",
        "updatedAt": project["updatedAt"],
        "url": f"https://invoice.zoho.com/app/{ORGANIZATION_ID}#/projects/{STOREFRONT}",
    }
    assert project["updatedAt"] > project["createdAt"]


async def test_task_fields_parse_hours_and_implement_work_item(gateway: Gateway) -> None:
    body = await gateway.execute(
        f"""query($id: ID!) {{ projectTask(id: $id) {{ {TASK_FIELDS}
              customerId customerName currencyId projectName createdAt completedAt
              ... on WorkItem {{ title }} project {{ zohoId }} }} }}""",
        {"id": task_id(STOREFRONT, VISUAL_DESIGN)},
    )
    task = body["data"]["projectTask"]
    assert task["zohoId"] == VISUAL_DESIGN and task["zohoProjectId"] == STOREFRONT
    assert task["title"] == task["name"] == "Visual design"
    assert (task["loggedHours"], task["billedHours"], task["unbilledHours"]) == (20.25, 10.0, 10.25)
    assert task["budgetHours"] == 20.0 and task["rate"] == "0.00"
    assert task["vendor"] == "ZOHO" and task["completed"] is False
    assert task["dueAt"] is None and task["createdAt"] is None and task["completedAt"] is None
    assert task["isBillable"] is True and task["status"] == "active"
    assert task["currencyId"] == "982000000000190" and task["customerName"] == "Harbor Lane Bakery"
    assert task["projectName"] == "Storefront Website Redesign"
    assert task["project"] == {"zohoId": STOREFRONT}
    assert task["url"].endswith(f"#/projects/{STOREFRONT}")


async def test_projects_with_tasks_cost_one_call_per_page_plus_one_per_project(
    gateway: Gateway,
) -> None:
    await warm_up(gateway)
    body = await gateway.execute(
        """{ projects(first: 5) { nodes { zohoId
               a: tasks(first: 2) { totalCount nodes { name loggedHours } }
               b: tasks(first: 10) { pageInfo { hasNextPage } nodes { id } } } } }""",
        accounting=True,
    )
    nodes = body["data"]["projects"]["nodes"]
    assert len(nodes) == 5
    assert all(n["a"]["totalCount"] == len(n["b"]["nodes"]) for n in nodes)
    calls = api_calls(body)
    paths = sorted(c["path"] for c in calls)
    # One project page, then one task list per project; both aliases share it.
    assert len(calls) == 1 + 5, paths
    assert paths.count("projects") == 1
    assert {p.rsplit("/", 2)[1] for p in paths if p.endswith("/tasks")} == {
        n["zohoId"] for n in nodes
    }
    assert zoho_calls(body) == len(calls)  # no token call once warmed up


async def test_projects_without_tasks_cost_one_call(gateway: Gateway) -> None:
    await warm_up(gateway)
    body = await gateway.execute(
        "{ projects(first: 8) { nodes { name totalHours } } }", accounting=True
    )
    assert len(body["data"]["projects"]["nodes"]) == ALL_PROJECTS
    assert zoho_calls(body) == 1


async def test_projects_page_through_with_cursors(gateway: Gateway) -> None:
    query = """query($after: String) { projects(first: 3, after: $after) {
        pageInfo { hasNextPage hasPreviousPage endCursor } nodes { name } } }"""
    names: list[str] = []
    after = None
    for _ in range(5):
        body = await gateway.execute(query, {"after": after}, accounting=True)
        connection = body["data"]["projects"]
        names.extend(n["name"] for n in connection["nodes"])
        assert len(api_calls(body)) == 1
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        after = connection["pageInfo"]["endCursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
    assert len(names) == ALL_PROJECTS
    assert names == sorted(names, key=str.casefold)


async def test_filters_and_sort_are_pushed_to_zoho(gateway: Gateway) -> None:
    inactive = await gateway.execute(
        "{ projects(filter: {status: INACTIVE}) { nodes { name status } } }"
    )
    assert {n["name"] for n in inactive["data"]["projects"]["nodes"]} == {
        "Lease Renewal Tracker",
        "Warehouse Sensor Pilot",
    }
    by_customer = await gateway.execute(
        """{ projects(filter: {customerId: "903000000000141", status: ACTIVE}) {
             nodes { name customerId status } } }"""
    )
    assert by_customer["data"]["projects"]["nodes"] == [
        {"name": "Property Listing API", "customerId": "903000000000141", "status": "ACTIVE"}
    ]
    by_rate = await gateway.execute(
        "{ projects(sort: {field: RATE, order: DESC}) { nodes { rate } } }"
    )
    rates = [float(n["rate"]) for n in by_rate["data"]["projects"]["nodes"]]
    assert rates == sorted(rates, reverse=True) and rates[0] == 12000.0


async def test_project_tasks_page_through_one_project(gateway: Gateway) -> None:
    query = """query($id: ID!, $after: String) { project(id: $id) {
        tasks(first: 4, after: $after) { totalCount
          pageInfo { hasNextPage endCursor } nodes { name } } } }"""
    first = await gateway.execute(query, {"id": project_id(LISTING_API)})
    tasks = first["data"]["project"]["tasks"]
    assert tasks["totalCount"] == 6 and tasks["pageInfo"]["hasNextPage"] is True
    rest = await gateway.execute(
        query, {"id": project_id(LISTING_API), "after": tasks["pageInfo"]["endCursor"]}
    )
    more = rest["data"]["project"]["tasks"]
    assert [n["name"] for n in more["nodes"]] == ["Partner onboarding docs", "Load testing"]
    assert more["pageInfo"]["hasNextPage"] is False


async def test_listed_projects_and_tasks_prime_the_by_id_loaders(gateway: Gateway) -> None:
    await warm_up(gateway)
    body = await gateway.execute(
        """{ projects(first: 3) { nodes {
             tasks(first: 1) { nodes { id project { name } } } } }
             later: projects(first: 1) { nodes { id } } }""",
        accounting=True,
    )
    nodes = body["data"]["projects"]["nodes"]
    assert all(n["tasks"]["nodes"][0]["project"]["name"] for n in nodes)
    # Two project pages (the two root fields), three task lists and three project
    # details: a list row lacks fields the details have, so it is not cached as
    # the project and each task's `project` is read whole, once per project.
    assert sorted(c["path"].count("/") for c in api_calls(body)) == [0, 0, 1, 1, 1, 2, 2, 2]


async def test_a_project_looks_the_same_however_it_is_loaded(gateway: Gateway) -> None:
    fields = """id name code customerId customerName currencyCode description status
                billingType rate budgetType totalHours billableHours unbilledHours
                createdAt updatedAt url"""
    listed = await gateway.execute(
        f"{{ projects(first: 3) {{ nodes {{ {fields} }} }} }}", accounting=True
    )
    nodes = listed["data"]["projects"]["nodes"]
    assert all(n["currencyCode"] and n["unbilledHours"] is not None for n in nodes)
    # Missing row fields are read through the by-id loader, one details call each.
    assert sorted(c["path"].count("/") for c in api_calls(listed)) == [0, 1, 1, 1]

    for node in nodes:
        alone = await gateway.execute(f'{{ project(id: "{node["id"]}") {{ {fields} }} }}')
        assert alone["data"]["project"] == node
    both = await gateway.execute(
        f"""{{ projects(first: 3) {{ nodes {{ id name }} }}
              project(id: "{nodes[0]["id"]}") {{ {fields} }} }}"""
    )
    # The list ran first, yet the by-id answer is the whole project, not the row.
    assert both["data"]["project"] == nodes[0]


async def test_create_update_delete_project_task(gateway: Gateway) -> None:
    store = gateway.sandbox_app("/zoho").state.store
    created = await gateway.execute(
        f"""mutation($input: CreateProjectTaskInput!) {{
              createProjectTask(input: $input) {{ projectTask {{ {TASK_FIELDS} }} }} }}""",
        {
            "input": {
                "projectId": project_id(LISTING_API),
                "name": "  Webhooks for Ødegaard & Søn  ",
                "description": "Retry with backoff.",
                "rate": "87.5",
                "budgetHours": 12,
            }
        },
    )
    task = created["data"]["createProjectTask"]["projectTask"]
    assert task["name"] == "Webhooks for Ødegaard & Søn"
    assert task["rate"] == "87.50" and task["budgetHours"] == 12.0
    assert task["loggedHours"] == 0.0 and task["zohoProjectId"] == LISTING_API
    stored = store.projects[LISTING_API].tasks[task["zohoId"]]
    assert (stored.task_name, stored.rate, stored.budget_hours) == (
        "Webhooks for Ødegaard & Søn",
        87.5,
        12,
    )

    # Only the rate changes; Zoho needs task_name on every update, so the
    # gateway resends the current one.
    updated = await gateway.execute(
        """mutation($input: UpdateProjectTaskInput!) {
             updateProjectTask(input: $input) { projectTask { name rate description } } }""",
        {"input": {"id": task["id"], "rate": 95}},
    )
    assert updated["data"]["updateProjectTask"]["projectTask"] == {
        "name": "Webhooks for Ødegaard & Søn",
        "rate": "95.00",
        "description": "Retry with backoff.",
    }
    renamed = await gateway.execute(
        """mutation($input: UpdateProjectTaskInput!) {
             updateProjectTask(input: $input) { projectTask { name rate } } }""",
        {"input": {"id": task["id"], "name": "Webhooks"}},
    )
    assert renamed["data"]["updateProjectTask"]["projectTask"] == {
        "name": "Webhooks",
        "rate": "95.00",
    }

    listed = await gateway.execute(
        "query($id: ID!) { project(id: $id) { tasks { totalCount nodes { id } } } }",
        {"id": project_id(LISTING_API)},
    )
    assert listed["data"]["project"]["tasks"]["totalCount"] == 7

    deleted = await gateway.execute(
        "mutation($id: ID!) { deleteProjectTask(id: $id) { deletedId } }", {"id": task["id"]}
    )
    assert deleted["data"]["deleteProjectTask"] == {"deletedId": task["id"]}
    assert task["zohoId"] not in store.projects[LISTING_API].tasks
    gone = await gateway.execute(
        "query($id: ID!) { projectTask(id: $id) { name } }", {"id": task["id"]}
    )
    assert codes(gone) == ["NOT_FOUND"] and gone["data"]["projectTask"] is None


async def test_create_then_read_tasks_in_one_request_sees_the_new_task(gateway: Gateway) -> None:
    body = await gateway.execute(
        """mutation($input: CreateProjectTaskInput!) {
             createProjectTask(input: $input) {
               projectTask { project { tasks(first: 50) { totalCount } } } } }""",
        {"input": {"projectId": project_id(STOREFRONT), "name": "Launch checklist"}},
    )
    project = body["data"]["createProjectTask"]["projectTask"]["project"]
    assert project["tasks"]["totalCount"] == 5


async def test_set_and_toggle_project_active(gateway: Gateway) -> None:
    store = gateway.sandbox_app("/zoho").state.store
    body = await gateway.execute(
        """mutation($id: ID!) { setProjectActive(id: $id, active: false) {
             project { status updatedAt } } }""",
        {"id": project_id(STOREFRONT)},
    )
    assert body["data"]["setProjectActive"]["project"]["status"] == "INACTIVE"
    assert store.projects[STOREFRONT].status == "inactive"
    toggled = await gateway.execute(
        "mutation($id: ID!) { toggleProjectActive(id: $id) { project { status } } }",
        {"id": project_id(STOREFRONT)},
    )
    assert toggled["data"]["toggleProjectActive"]["project"]["status"] == "ACTIVE"
    assert store.projects[STOREFRONT].status == "active"


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
async def test_bad_task_name_is_refused_before_any_upstream_call(
    gateway: Gateway, name: str
) -> None:
    body = await gateway.execute(
        """mutation($input: CreateProjectTaskInput!) {
             createProjectTask(input: $input) { projectTask { id } } }""",
        {"input": {"projectId": project_id(STOREFRONT), "name": name}},
        accounting=True,
    )
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "name"
    assert body["extensions"]["upstreamCalls"]["total"] == 0
    update = await gateway.execute(
        """mutation($input: UpdateProjectTaskInput!) {
             updateProjectTask(input: $input) { projectTask { id } } }""",
        {"input": {"id": task_id(STOREFRONT, DISCOVERY), "name": name}},
        accounting=True,
    )
    assert codes(update) == ["BAD_USER_INPUT"]
    assert update["extensions"]["upstreamCalls"]["total"] == 0


async def test_hundred_character_name_is_accepted(gateway: Gateway) -> None:
    body = await gateway.execute(
        """mutation($input: CreateProjectTaskInput!) {
             createProjectTask(input: $input) { projectTask { name } } }""",
        {"input": {"projectId": project_id(STOREFRONT), "name": "y" * 100}},
    )
    assert body["data"]["createProjectTask"]["projectTask"]["name"] == "y" * 100


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"rate": "-1"}, "rate"), ({"rate": "NaN"}, "rate"), ({"budgetHours": -2}, "budgetHours")],
)
async def test_bad_numbers_are_refused(gateway: Gateway, extra: dict[str, Any], field: str) -> None:
    body = await gateway.execute(
        """mutation($input: CreateProjectTaskInput!) {
             createProjectTask(input: $input) { projectTask { id } } }""",
        {"input": {"projectId": project_id(STOREFRONT), "name": "Audit", **extra}},
        accounting=True,
    )
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == field
    assert body["extensions"]["upstreamCalls"]["total"] == 0


@pytest.mark.parametrize(
    "raw_id",
    [
        encode_id(INVOICED, "Task", 700),
        encode_id(ZOHO, "ProjectTask", STOREFRONT),
        encode_id(ZOHO, "ProjectTask", STOREFRONT, "../../projects"),
        "not-an-id",
    ],
)
async def test_malformed_ids_are_bad_input(gateway: Gateway, raw_id: str) -> None:
    body = await gateway.execute(
        "query($id: ID!) { projectTask(id: $id) { id } }", {"id": raw_id}, accounting=True
    )
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["extensions"]["upstreamCalls"]["total"] == 0


async def test_unknown_project_and_task_are_not_found(gateway: Gateway) -> None:
    missing_project = project_id("903000000000001")
    missing_task = task_id(STOREFRONT, "903000000000002")
    body = await gateway.execute(
        """query($p: ID!, $t: ID!) { project(id: $p) { name } projectTask(id: $t) { name }
             node(id: $t) { id } }""",
        {"p": missing_project, "t": missing_task},
    )
    assert sorted(codes(body)) == ["NOT_FOUND"] * 3
    assert all(e["extensions"]["vendor"] == "zoho" for e in body["errors"])
    mutations = await gateway.execute(
        """mutation($p: ID!, $t: ID!) {
             c: createProjectTask(input: {projectId: $p, name: "x"}) { projectTask { id } }
             u: updateProjectTask(input: {id: $t, name: "y"}) { projectTask { id } }
             u2: updateProjectTask(input: {id: $t, rate: 3}) { projectTask { id } }
             d: deleteProjectTask(id: $t) { deletedId }
             s: setProjectActive(id: $p, active: true) { project { id } } }""",
        {"p": missing_project, "t": missing_task},
    )
    assert codes(mutations) == ["NOT_FOUND"] * 5


@pytest.mark.federation
async def test_node_and_federation_entities_resolve_zoho_types(gateway: Gateway) -> None:
    body = await gateway.execute(
        """query($reps: [_Any!]!, $id: ID!) {
             node(id: $id) { ... on ProjectTask { name } }
             _entities(representations: $reps) {
               ... on Project { name } ... on ProjectTask { name } } }""",
        {
            "id": task_id(STOREFRONT, DISCOVERY),
            "reps": [
                {"__typename": "Project", "id": project_id(LISTING_API)},
                {"__typename": "ProjectTask", "id": task_id(STOREFRONT, DISCOVERY)},
            ],
        },
    )
    assert body["data"]["node"] == {"name": "Discovery workshop"}
    assert body["data"]["_entities"] == [
        {"name": "Property Listing API"},
        {"name": "Discovery workshop"},
    ]


async def test_every_api_call_carries_token_and_organization(gateway: Gateway) -> None:
    seen: list[tuple[str, str, str]] = []

    def record(request: Any) -> None:
        if request.url.path.startswith("/zoho/"):
            seen.append(
                (
                    request.url.path,
                    request.headers.get("authorization", ""),
                    request.headers.get("x-com-zoho-invoice-organizationid", ""),
                )
            )

    gateway.inject(record)
    await gateway.execute("{ projects(first: 2) { nodes { tasks { nodes { name } } } } }")
    api = [s for s in seen if "/invoice/v3/" in s[0]]
    assert len(api) == 3
    assert all(auth.startswith("Zoho-oauthtoken 1000.") for _, auth, _ in api)
    assert all(org == ORGANIZATION_ID for _, _, org in api)
    token_calls = [s for s in seen if s[0].endswith("/oauth/v2/token")]
    assert len(token_calls) == 1 and token_calls[0][1] == ""  # no bearer sent to accounts
