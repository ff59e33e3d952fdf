"""What `serve` and `demo` say as they start: one line per vendor, through the gateway's
log format, so an operator never has to guess which vendors a gateway serves.

- ``Invoiced: on`` (INFO): every variable of one way of configuring it is set;
- ``ReadyDesk: off (not configured)`` (INFO): none is; it answers
  ``VENDOR_NOT_CONFIGURED``;
- ``Zoho Invoice: partly configured: missing ZOHO_ORGANIZATION_ID, ZOHO_REFRESH_TOKEN``
  (WARNING): some are, the rest are named. `serve` then refuses to start (see
  :func:`partly_configured`); a half-set vendor is a deployment mistake, not a choice.
"""

from __future__ import annotations

import logging

from gateway.config import Settings
from gateway.core.configuration import Setup, SetupState

logger = logging.getLogger("gateway.startup")


def _line(label: str, setup: Setup) -> tuple[int, str]:
    if setup.state is SetupState.ON:
        return logging.INFO, f"{label}: on"
    if setup.state is SetupState.OFF:
        return logging.INFO, f"{label}: off (not configured)"
    return logging.WARNING, f"{label}: partly configured: missing {setup.describe_missing()}"


def log_vendor_states(settings: Settings) -> None:
    """One line per vendor, in registry order; a warning when none is on."""
    for plugin in settings.plugins:
        setup = settings.section(plugin).setup
        level, message = _line(plugin.vendor.label, setup)
        logger.log(level, message, extra={"vendor": plugin.vendor.value, "state": setup.state})
    if not any(settings.section(plugin).configured for plugin in settings.plugins):
        logger.warning(
            "No vendor is configured: every query will answer VENDOR_NOT_CONFIGURED and "
            "/readyz 503. Set a vendor's environment variables (docs/startup.md; "
            "`task-gateway sandbox --print-env` prints them for the sandboxes)."
        )


def partly_configured(settings: Settings) -> list[str]:
    """Why `serve` refuses to start: a sentence per partly configured vendor.

    Refused rather than served without it: a vendor set up halfway is a missing secret
    or a misspelt name in a deployment, and a gateway that started anyway would answer
    VENDOR_NOT_CONFIGURED to every client of that vendor while its health checks pass,
    so a rolling deploy would replace every healthy instance before anyone noticed.
    Refusing stops the first new instance, with the variables to set.
    """
    problems = []
    for plugin in settings.plugins:
        setup = settings.section(plugin).setup
        if setup.state is SetupState.PARTIAL:
            problems.append(
                f"{plugin.vendor.label} is partly configured: missing "
                f"{setup.describe_missing()} (set them, or unset its other variables to "
                "leave it off)"
            )
    return problems
