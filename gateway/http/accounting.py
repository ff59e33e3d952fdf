"""The upstream-call accounting a client may ask for (``X-Upstream-Accounting``, or
``GATEWAY_UPSTREAM_ACCOUNTING`` for everyone): the answer's ``extensions.upstreamCalls``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.observability.scope import CallLog

ACCOUNTING_HEADER = "x-upstream-accounting"


def accounting_requested(headers: Mapping[str, str], default: bool) -> bool:
    flag = headers.get(ACCOUNTING_HEADER)
    if flag is None:
        return default
    return flag.strip().lower() in {"1", "true", "yes", "on"}


def accounting_report(log: CallLog) -> dict[str, Any]:
    by_vendor: dict[str, dict[str, float]] = {}
    for call in log.calls:
        if call.collapsed:
            continue  # shared another request's call: it cost the vendor nothing
        entry = by_vendor.setdefault(call.vendor.value, {"count": 0, "durationMs": 0.0})
        entry["count"] += 1
        entry["durationMs"] = round(entry["durationMs"] + call.duration_ms, 2)
    return {
        "total": log.made,
        "collapsed": len(log.calls) - log.made,
        "byVendor": by_vendor,
        "calls": [
            {
                "vendor": call.vendor.value,
                "method": call.method,
                "path": call.path,
                "status": call.status,
                "startMs": call.start_ms,
                "durationMs": call.duration_ms,
                "collapsed": call.collapsed,
            }
            for call in log.calls
        ],
    }
