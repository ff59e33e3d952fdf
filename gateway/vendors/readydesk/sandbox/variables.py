"""Reading ReadyDesk's request variables as the product does: flags, integers, IDs
and their patterns, dates; a variable it would refuse raises :class:`QueryError`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

Params = Mapping[str, str]


class QueryError(Exception):
    """A request the product would refuse; the message goes into the error wrapper."""


def echo(text: str) -> str:
    # Error messages quote the offending input the way SQL Server does, but only
    # its printable part, so the wrapper stays well-formed in every format.
    printable = "".join(ch for ch in text if ch.isprintable())
    return printable[:60]


def flag(params: Params, name: str) -> bool:
    value = params.get(name, "N").strip().upper()
    if value not in ("Y", "N"):
        raise QueryError(f"Invalid {name}: expected Y or N")
    return value == "Y"


def integer(params: Params, name: str, minimum: int) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or int(text) < minimum:
        raise QueryError(f"Invalid {name}: '{echo(raw)}'")
    return int(text)


def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.casefold().split("*")))


def text_matcher(pattern: str) -> Callable[[str], bool]:
    """Exact or `*`-wildcard match on a customer ID, ignoring case."""
    compiled = _wildcard(pattern)
    return lambda value: compiled.fullmatch(value.casefold()) is not None


def id_matcher(raw: str, name: str) -> Callable[[int | None], bool]:
    """An ID, a `*` pattern, or a `,`/`|` list of either ([guess]: the list form).

    A trailing separator is allowed so an invoice's ``jobs`` value (``1|2|``)
    can be passed back as it came.
    """
    terms = [term.strip() for term in re.split(r"[,|]", raw) if term.strip()]
    if not terms:
        raise QueryError(f"Invalid {name}: '{echo(raw)}'")
    exact: set[int] = set()
    patterns: list[re.Pattern[str]] = []
    for term in terms:
        if "*" in term and all(part.isdigit() for part in term.split("*") if part):
            patterns.append(_wildcard(term))
        elif term.isascii() and term.isdigit():
            exact.add(int(term))
        else:
            raise QueryError(f"Invalid {name}: '{echo(raw)}'")

    def matches(value: int | None) -> bool:
        # As with SQL's LIKE, a missing value matches nothing, not even "*".
        if value is None:
            return False
        return value in exact or any(p.fullmatch(str(value)) for p in patterns)

    return matches


_US_DATE = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?"
)


def local_datetime(params: Params, name: str, zone: ZoneInfo) -> datetime | None:
    """A date/time variable as the server's DateTime.Parse reads it: local time."""
    raw = params.get(name)
    if raw is None:
        return None
    text = raw.strip()
    try:
        match = _US_DATE.fullmatch(text)
        if match:
            month, day, year, hour, minute, second, half = match.groups()
            hours = int(hour or 0)
            if half:
                if not 1 <= hours <= 12:
                    raise ValueError(text)
                hours = hours % 12 + (12 if half.upper() == "PM" else 0)
            naive = datetime(
                int(year), int(month), int(day), hours, int(minute or 0), int(second or 0)
            )
            return naive.replace(tzinfo=zone)
        if re.match(r"\d{4}-\d{2}-\d{2}", text):
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is not None:
                return parsed.astimezone(zone)
            return parsed.replace(tzinfo=zone)
    except ValueError:
        pass
    raise QueryError(f"Invalid {name}: '{echo(raw)}'")
