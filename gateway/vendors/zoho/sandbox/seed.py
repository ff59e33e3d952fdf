"""Deterministic demo data: the same organization, customers, projects and tasks
every time a sandbox starts, so frontend developers can rely on fixed IDs."""

from __future__ import annotations

from datetime import datetime

from gateway.core.sandbox import Clock

from .store import ORG_TZ, Customer, Project, Store, Task, User

# Readable demo credentials; the organization ID is the one the vendor docs use.
ORGANIZATION_ID = "10234695"
CLIENT_ID = "1000.SANDBOXZOHOCLIENT0000000000001"
CLIENT_SECRET = "sandbox-zoho-client-secret"
REFRESH_TOKEN = "1000.sandbox0refresh0token.zohoinvoice0demo"

_USD = ("USD", 982000000000190)
_EUR = ("EUR", 982000000000196)
_GBP = ("GBP", 982000000000202)

_CUSTOMERS = [
    ("903000000000099", "Harbor Lane Bakery", _USD),
    ("903000000000113", "Kestrel Analytics Ltd", _GBP),
    ("903000000000127", "Meridian Health Clinic", _USD),
    ("903000000000141", "Oakridge Property Group", _USD),
    ("903000000000155", "Saffron & Sage Restaurants", _EUR),
]

_USERS = [
    User("903000000000301", "Priya Raman", "priya.raman@example.com", "admin", 120.0),
    User("903000000000315", "Tomás Herrera", "tomas.herrera@example.com", "staff", 95.0),
    User("903000000000329", "Grace Okafor", "grace.okafor@example.com", "staff", 85.0),
    User("903000000000343", "Lukas Brandt", "lukas.brandt@example.com", "timesheetstaff", 70.0),
]

# (name, description, rate, budget_hours, logged minutes, billed minutes)
_TaskSeed = tuple[str, str, int | float, int | float | None, int, int]

# (id, name, code, customer index, status, billing_type, rate, budget_type,
#  budget_hours, budget_amount, created "YYYY-MM-DD HH:MM", user indexes, tasks)
_ProjectSeed = tuple[
    str, str, str, int, str, str, float, str, int, float, str, tuple[int, ...], list[_TaskSeed]
]

# fmt: off
_PROJECTS: list[_ProjectSeed] = [
    ("903000000072369", "Storefront Website Redesign", "HLB-WEB", 0, "active",
     "fixed_cost_for_project", 8500.0, "total_project_cost", 0, 8500.0, "2026-01-06 09:15",
     (0, 1), [
         ("Discovery workshop", "Kick-off and requirements with the owners.", 0, 6, 360, 360),
         ("Wireframes", "Home, menu and ordering pages.", 0, 12, 690, 690),
         ("Visual design", "", 0, 20, 1215, 600),
         ("Online ordering integration", "Connect the POS ordering API.", 0, 30, 845, 0),
     ]),
    ("903000000072383", "Churn Model Audit", "KES-CMA", 1, "active",
     "based_on_task_hours", 0.0, "hours_per_task", 0, 0.0, "2026-01-12 14:40",
     (0, 2), [
         ("Data pipeline review", "Check feature freshness and leakage.", 110, 16, 930, 930),
         ("Model validation", "", 125, 24, 1470, 720),
         ("Bias and drift report", "Quarterly drift metrics.", 125, 10, 305, 0),
     ]),
    ("903000000072397", "Patient Portal Support", "MHC-SUP", 2, "active",
     "based_on_staff_hours", 0.0, "hours_per_staff", 0, 0.0, "2026-01-19 11:05",
     (1, 2, 3), [
         ("Ticket triage", "Weekly support rotation.", 0, None, 1260, 1080),
         ("Appointment reminder fixes", "", 0, 8, 275, 275),
         ("Accessibility audit", "WCAG 2.2 AA pass.", 0, 14, 480, 0),
         ("Release coordination", "", 0, None, 150, 90),
         ("On-call handover notes", "", 0, None, 45, 0),
     ]),
    ("903000000072411", "Lease Renewal Tracker", "OPG-LRT", 3, "inactive",
     "based_on_project_hours", 90.0, "total_project_hours", 60, 0.0, "2025-11-03 10:00",
     (1,), [
         ("Spreadsheet import", "Migrate 2019-2025 lease data.", 0, 10, 600, 600),
         ("Renewal alerts", "", 0, 12, 735, 735),
     ]),
    ("903000000072425", "Menu Costing Dashboard", "SSR-MCD", 4, "active",
     "based_on_task_hours", 0.0, "", 0, 0.0, "2026-02-02 16:20",
     (0, 3), [
         ("Supplier price feed", "Nightly import from three suppliers.", 80, 12, 540, 300),
         ("Recipe cost model", "", 95, 18, 1020, 0),
         ("Dashboard build", "", 80, 16, 260, 0),
         ("Staff training", "Two sessions per site.", 60, 4, 0, 0),
     ]),
    ("903000000072439", "Warehouse Sensor Pilot", "KES-WSP", 1, "inactive",
     "fixed_cost_for_project", 12000.0, "total_project_cost", 0, 12000.0, "2025-09-22 08:30",
     (2,), [
         ("Sensor placement plan", "", 0, 8, 420, 420),
         ("Gateway firmware", "Pin firmware to v2.3.", 0, 20, 1310, 1310),
         ("Pilot report", "", 0, 6, 380, 380),
     ]),
    ("903000000072453", "Property Listing API", "OPG-API", 3, "active",
     "based_on_project_hours", 105.0, "total_project_hours", 120, 0.0, "2026-02-16 13:45",
     (1, 2), [
         ("API design", "OpenAPI draft and review.", 0, 10, 555, 555),
         ("Search endpoint", "", 0, 24, 1400, 900),
         ("Image pipeline", "Resize and CDN upload.", 0, 16, 615, 0),
         ("Rate limiting", "", 0, 6, 0, 0),
         ("Partner onboarding docs", "", 0, 8, 90, 0),
         ("Load testing", "", 0, 8, 0, 0),
     ]),
    ("903000000072467", "Allergen Labelling Update", "SSR-ALU", 4, "active",
     "based_on_staff_hours", 0.0, "hours_per_staff", 0, 0.0, "2026-03-02 09:50",
     (3,), [
         ("Label template changes", "EU 1169/2011 layout.", 0, 6, 210, 0),
         ("Printer profile rollout", "", 0, 4, 75, 0),
     ]),
]
# fmt: on


def _epoch(local: str) -> float:
    return datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=ORG_TZ).timestamp()


def seed_store(*, clock: Clock, token_ttl: int) -> Store:
    store = Store(
        clock=clock,
        token_ttl=token_ttl,
        organization_id=ORGANIZATION_ID,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=REFRESH_TOKEN,
    )
    customers = [
        Customer(cid, name, currency_code=cur[0], currency_id=cur[1])
        for cid, name, cur in _CUSTOMERS
    ]
    store.customers = {c.customer_id: c for c in customers}
    task_id = 903000000073001
    for index, (
        pid,
        name,
        code,
        cust,
        status,
        billing,
        rate,
        budget_type,
        budget_hours,
        budget_amount,
        created,
        user_idx,
        tasks,
    ) in enumerate(_PROJECTS):
        created_at = _epoch(created)
        project = Project(
            project_id=pid,
            project_name=name,
            project_code=code,
            customer=customers[cust],
            description=f"{name} for {customers[cust].customer_name}.",
            status=status,
            billing_type=billing,
            rate=rate,
            budget_type=budget_type,
            budget_hours=budget_hours,
            budget_amount=budget_amount,
            created=created_at,
            # Each project was last touched a different number of days after creation,
            # so sorting by last_modified_time differs from sorting by created_time.
            modified=created_at + 86400 * (3 + (index * 5) % 11) + 1800 * index,
            users=[_USERS[i] for i in user_idx],
        )
        for t_name, t_desc, t_rate, t_budget, logged, billed in tasks:
            tid = str(task_id)
            task_id += 14
            project.tasks[tid] = Task(tid, t_name, t_desc, t_rate, t_budget, logged, billed)
        store.projects[pid] = project
    return store
