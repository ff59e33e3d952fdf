"""A WARNING when a vendor refuses the gateway's own credentials (``UPSTREAM_AUTH``).

Clients see ``UPSTREAM_AUTH`` in their answers and `/readyz` reports it, but an operator
reads the log: one line names the vendor and the environment variables to check (never
their values). Refused credentials fail every request until someone fixes them, so the
line is written at most once per ``quiet`` seconds per vendor (the breaker's cool-down),
not once per request; each process of the gateway writes its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from gateway.core.errors import UpstreamAuthError
from gateway.core.types import Vendor

logger = logging.getLogger("gateway.credentials")


class CredentialWarnings:
    """``variables``: per vendor, the environment variables its credentials come from."""

    def __init__(
        self,
        variables: Mapping[Vendor, Sequence[str]],
        *,
        quiet: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._variables = {vendor: tuple(names) for vendor, names in variables.items()}
        self._quiet = quiet
        self.clock = clock  # tests move it past the quiet period
        self._warned_at: dict[Vendor, float] = {}

    def refused(self, vendor: Vendor) -> bool:
        """Note that ``vendor`` refused the credentials; returns whether a line was written."""
        now = self.clock()
        last = self._warned_at.get(vendor)
        if last is not None and now - last < self._quiet:
            return False
        self._warned_at[vendor] = now
        names = self._variables.get(vendor, ())
        logger.warning(
            "%s refused the gateway's credentials (UPSTREAM_AUTH): check %s. Its requests "
            "fail until they are fixed; this warning repeats at most every %g s.",
            vendor.label,
            ", ".join(names) or "its environment variables",
            self._quiet,
            extra={"vendor": vendor.value, "variables": list(names)},
        )
        return True

    def note(self, errors: Iterable[BaseException | None]) -> None:
        """Warn for each vendor among ``errors`` that refused the credentials."""
        for vendor in {e.vendor for e in errors if isinstance(e, UpstreamAuthError)}:
            self.refused(vendor)
