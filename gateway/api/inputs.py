"""Checks of client input against what a vendor can hold, shared by the vendors'
GraphQL modules. Each raises BAD_USER_INPUT naming the field, before any upstream
call: a value a vendor cannot hold must never be written (it would come back as a
record the gateway cannot read) nor sent as a filter (it would be refused upstream).
The limits themselves are vendor knowledge and come from each vendor's models.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from gateway.core.errors import BadUserInput

# The widest instants the gateway itself can read back and serve: years 1 to 9999 in UTC.
EARLIEST_INSTANT = datetime.min.replace(tzinfo=UTC)
LATEST_INSTANT = datetime.max.replace(microsecond=0, tzinfo=UTC)


def _label(field: str) -> str:
    return field.rsplit(".", 1)[-1]


def instant_within(
    value: datetime | None,
    field: str,
    earliest: datetime = EARLIEST_INSTANT,
    latest: datetime = LATEST_INSTANT,
) -> datetime | None:
    """``value`` if it has a UTC offset and its UTC moment lies in ``[earliest, latest]``."""
    if value is None:
        return None
    if value.utcoffset() is None:
        raise BadUserInput(f"`{_label(field)}` needs a time zone offset.", field=field)
    try:
        # Near year 1 or 9999 an offset can carry the moment out of the calendar itself.
        moment = value.astimezone(UTC)
    except OverflowError:
        moment = None
    if moment is None or not earliest <= moment <= latest:
        raise BadUserInput(
            f"`{_label(field)}` must lie between {earliest.isoformat()} and "
            f"{latest.isoformat()} (in UTC).",
            field=field,
        )
    return value


def day_within(value: date | None, field: str, earliest: date, latest: date) -> date | None:
    if value is not None and not earliest <= value <= latest:
        raise BadUserInput(
            f"`{_label(field)}` must lie between {earliest.isoformat()} and {latest.isoformat()}.",
            field=field,
        )
    return value


def id_within(value: int | None, field: str, maximum: int) -> int | None:
    """A vendor's numeric id: records are numbered from 1 up to its column's range."""
    if value is not None and not 1 <= value <= maximum:
        raise BadUserInput(f"`{_label(field)}` must be between 1 and {maximum}.", field=field)
    return value
