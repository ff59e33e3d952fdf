"""Demo credentials and the deterministic demo todos of the Fakturoid sandbox.

The four todo kinds shown in the vendor doc (`inbox_files_too_many_attachments`,
`account_exceeded_vat_turnover_limit`, `email_bounced`, `expense_payment_unpaired`) reuse the
doc's texts and params; the other kinds are invented for demo variety [guess], chosen so that
every documented `related_objects` type occurs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from .store import PRAGUE, RelatedObject, Todo

# The doc's own example slug, so URLs copied from the vendor docs work against the sandbox.
ACCOUNT_SLUG = "applecorp"
CLIENT_ID = "fakturoid-sandbox-client"
CLIENT_SECRET = "fakturoid-sandbox-secret"
USER_AGENT = "TaskGateway (sandbox@example.com)"

TODO_COUNT = 100

_SUBJECTS: tuple[tuple[int, str, str], ...] = (
    (32, "Ing. Bořivoj Hejsek", "borivoj.hejsek@example.com"),
    (41, "Jablíčkárna s.r.o.", "fakturace@jablickarna.example.com"),
    (57, "Kavárna U Zlatého klasu", "ucetni@zlatyklas.example.com"),
    (63, "Stavby Novák a syn", "novak@stavby-novak.example.com"),
    (78, "Tiskárna Morava a.s.", "info@tiskarna-morava.example.com"),
)
_GENERATORS = ("Měsíční podpora", "Hosting", "Správa webu", "Účetní služby")
_EXPENSE_GENERATORS = ("Nájem kanceláře", "Internet", "Leasing auta")
_BANK_ACCOUNTS = (("21", "Účet"), ("22", "Firemní účet EUR"))

# (text, related_objects, params) for the i-th seeded todo, created at the given moment.
_Detail = tuple[str, tuple[RelatedObject, ...], dict[str, str]]
_Kind = tuple[str, Callable[[int, datetime], _Detail]]


def _czk(amount: int) -> str:
    return f"{amount:,}".replace(",", " ") + ",00 Kč"


def _invoice_number(i: int, created: datetime) -> str:
    return f"{created.year}-{i + 12:04d}"


def _subject(i: int) -> tuple[int, str, str]:
    return _SUBJECTS[i % len(_SUBJECTS)]


def _invoice_paid(i: int, created: datetime) -> _Detail:
    number = _invoice_number(i, created)
    amount = 1210 * (1 + i % 9)
    related = (RelatedObject("Invoice", 300 + i), RelatedObject("Subject", _subject(i)[0]))
    params = {"number": number, "amount": str(amount), "currency": "CZK"}
    return f"Faktura {number} byla uhrazena.", related, params


def _invoice_overdue(i: int, created: datetime) -> _Detail:
    number = _invoice_number(i, created)
    days = 5 + i % 25
    due_on = (created - timedelta(days=days)).date().isoformat()
    related = (RelatedObject("Invoice", 300 + i), RelatedObject("Subject", _subject(i)[0]))
    params = {"number": number, "due_on": due_on, "days_overdue": str(days)}
    return f"Faktura {number} je {days} dní po splatnosti.", related, params


def _payment_params(i: int, amount: int, currency: str) -> dict[str, str]:
    bank_account_id, bank_account_name = _BANK_ACCOUNTS[0 if currency == "CZK" else 1]
    return {
        "note": "" if i % 2 else "Platba dle smlouvy",
        "amount": str(amount),
        "currency": currency,
        "bank_account_id": bank_account_id,
        "variable_symbol": f"{2026000000 + i * 7919}",
        "bank_account_name": bank_account_name,
    }


def _invoice_payment_unpaired(i: int, created: datetime) -> _Detail:
    params = _payment_params(i, 500 * (1 + i % 13), "CZK")
    amount = _czk(int(params["amount"]))
    # The trailing space mirrors the doc's example of the outgoing variant.
    text = f"Nespárovaná příchozí platba - VS: {params['variable_symbol']}, částka: {amount} "
    return text, (), params


def _expense_payment_unpaired(i: int, created: datetime) -> _Detail:
    params = _payment_params(i, 41 * (1 + i % 7), "EUR")
    amount = f"€ {params['amount']},00"
    text = f"Nespárovaná odchozí platba - VS: {params['variable_symbol']}, částka: {amount} "
    return text, (), params


def _email_bounced(i: int, created: datetime) -> _Detail:
    subject_id, _, email = _subject(i)
    params = {"email": email, "inactive": "true" if i % 3 == 0 else "false"}
    return f"Email na {email} se nepodařil doručit", (RelatedObject("Subject", subject_id),), params


def _inbox_files_too_many_attachments(i: int, created: datetime) -> _Detail:
    count = 3 + i % 4
    attachments = ", ".join(f"scan-{i}-{n}.pdf" for n in range(1, count + 1))
    params = {"email_from": _subject(i)[2], "count": str(count), "attachments": attachments}
    return "Počet příloh v emailu překračuje zbývající kapacitu krabice", (), params


def _vat_turnover_limit(i: int, created: datetime) -> _Detail:
    register_until = (created + timedelta(days=10)).date()
    vat_payer_from = register_until.replace(day=1) + timedelta(days=31)
    params = {
        "register_until_date": register_until.isoformat(),
        "vat_payer_from_date": vat_payer_from.replace(day=1).isoformat(),
    }
    text = "Zdá se, že jste překročili obrat pro povinnou registrace k DPH."
    return text, (RelatedObject("Subject", _subject(i)[0]),), params


def _generator_invoice_created(i: int, created: datetime) -> _Detail:
    name = _GENERATORS[i % len(_GENERATORS)]
    number = _invoice_number(i, created)
    related = (RelatedObject("Generator", 10 + i % 4), RelatedObject("Invoice", 300 + i))
    params = {"generator_name": name, "number": number}
    return f"Ze šablony „{name}“ byla vystavena faktura {number}.", related, params


def _recurring_generator_failed(i: int, created: datetime) -> _Detail:
    name = _GENERATORS[i % len(_GENERATORS)]
    subject_id, subject_name, _ = _subject(i)
    related = (
        RelatedObject("RecurringGenerator", 20 + i % 4),
        RelatedObject("Subject", subject_id),
    )
    params = {"generator_name": name, "subject_name": subject_name, "reason": "missing_email"}
    text = f"Pravidelnou fakturu „{name}“ se nepodařilo vystavit, odběratel nemá vyplněný email."
    return text, related, params


def _expense_generator_created(i: int, created: datetime) -> _Detail:
    name = _EXPENSE_GENERATORS[i % len(_EXPENSE_GENERATORS)]
    number = f"N-{created.year}-{i + 3:04d}"
    related = (RelatedObject("ExpenseGenerator", 40 + i % 3), RelatedObject("Expense", 500 + i))
    params = {"generator_name": name, "number": number}
    return f"Opakovaný náklad „{name}“ vytvořil náklad {number}.", related, params


_KINDS: tuple[_Kind, ...] = (
    ("invoice_paid", _invoice_paid),
    ("invoice_overdue", _invoice_overdue),
    ("invoice_payment_unpaired", _invoice_payment_unpaired),
    ("expense_payment_unpaired", _expense_payment_unpaired),
    ("email_bounced", _email_bounced),
    ("inbox_files_too_many_attachments", _inbox_files_too_many_attachments),
    ("account_exceeded_vat_turnover_limit", _vat_turnover_limit),
    ("generator_invoice_created", _generator_invoice_created),
    ("recurring_generator_failed", _recurring_generator_failed),
    ("expense_generator_created", _expense_generator_created),
)


def seed_todos() -> list[Todo]:
    """About six months of todos, oldest first; plain arithmetic keeps them identical per run."""
    todos: list[Todo] = []
    created = datetime(2025, 8, 4, 9, 12, 5, 118000, tzinfo=PRAGUE)
    for i in range(TODO_COUNT):
        created += timedelta(
            hours=20 + (i * 37) % 49,
            minutes=(i * 17) % 60,
            seconds=(i * 29) % 60,
            milliseconds=(i * 331) % 1000,
        )
        # A step coprime with the kind count interleaves the kinds instead of repeating a cycle.
        name, detail = _KINDS[(i * 7) % len(_KINDS)]
        text, related, params = detail(i, created)
        # Older todos are mostly dealt with, the newest mostly still open, as in a real inbox.
        completed = i % 5 != 0 if i < 70 else i % 4 == 0
        completed_at = created + timedelta(hours=3 + (i * 11) % 70) if completed else None
        todos.append(
            Todo(
                # Gaps in the ids imitate todos Fakturoid has since deleted, as in the doc.
                id=i + 1 + i // 12,
                name=name,
                created_at=created,
                completed_at=completed_at,
                text=text,
                related_objects=related,
                params=params,
            )
        )
    return todos
