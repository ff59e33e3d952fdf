"""The custom scalars as clients see them: each names the document that defines its
text form (`@specifiedBy`), so generated clients can map it to a real type.

Strawberry's own Date, DateTime and Decimal carry no URL; these replace them in
every schema (``SCALAR_OVERRIDES``) with the same parsing and serialising."""

from __future__ import annotations

import dataclasses
import datetime
import decimal

from strawberry.schema.types.base_scalars import (
    DateDefinition,
    DateTimeDefinition,
    DecimalDefinition,
)
from strawberry.types.scalar import ScalarDefinition

RFC_3339 = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
# The General Decimal Arithmetic specification's to-scientific-string, which Python's
# Decimal follows: money is a plain string such as "178.50", never a float.
DECIMAL_STRING = "https://speleotrove.com/decimal/daconvs.html#reftostr"

DATE_TIME = dataclasses.replace(
    DateTimeDefinition,
    description="A date and time with a UTC offset (RFC 3339 `date-time`), e.g. "
    "`2024-05-01T09:30:00+00:00`.",
    specified_by_url=RFC_3339,
)
DATE = dataclasses.replace(
    DateDefinition,
    description="A calendar date (RFC 3339 `full-date`), e.g. `2024-05-01`.",
    specified_by_url=RFC_3339,
)
DECIMAL = dataclasses.replace(
    DecimalDefinition,
    description='An exact decimal number as a string, e.g. `"178.50"`; money carries '
    "its currency's minor units (two places for CZK, EUR, USD; none for JPY).",
    specified_by_url=DECIMAL_STRING,
)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {
    datetime.datetime: DATE_TIME,
    datetime.date: DATE,
    decimal.Decimal: DECIMAL,
}
