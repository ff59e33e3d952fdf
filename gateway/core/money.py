"""Money as clients get it: a Decimal with its currency's minor units (ISO 4217),
so "178.5" from a vendor reaches clients as "178.50" in USD and "179" in JPY."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

# ISO 4217 currencies whose minor unit is not two places; every other code has two.
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}
DEFAULT_MINOR_UNITS = 2


def minor_units(currency: str) -> int:
    return MINOR_UNITS.get(currency.strip().upper(), DEFAULT_MINOR_UNITS)


def money(amount: Decimal, currency: str) -> Decimal:
    """``amount`` with exactly ``currency``'s places; banker's rounding, as ledgers do,
    only when a vendor sends more places than the currency has."""
    exponent = Decimal(1).scaleb(-minor_units(currency))
    return amount.quantize(exponent, rounding=ROUND_HALF_EVEN)
