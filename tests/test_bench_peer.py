"""The peer benchmark's set-up, without its load: the delaying upstream, Tailcall's config,
the parity settings, and the check every contender must pass before it is measured."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from benchmarks.latency import (
    LATENCY_PATH,
    ROUTES_PATH,
    Delayed,
    set_latency,
    vendor_answers,
    vendor_calls,
)
from benchmarks.peer.contenders import (
    SMALL,
    TASK_GATEWAY_PARITY,
    WIDE,
    expected_rows,
    fill_to,
    task_gateway,
    verified,
)
from benchmarks.peer.tailcall import tailcall
from benchmarks.settings import settings_with
from gateway.http.sandboxes import create_sandbox_app, sandbox_env
from tests.servers import serve_in_thread

CPU = min(os.sched_getaffinity(0))


@pytest.fixture
def upstream() -> Iterator[tuple[str, dict[str, str]]]:
    """The sandboxes behind the benchmark's delay (none to start with), and the Invoiced
    variables that point at them."""
    with serve_in_thread(Delayed(create_sandbox_app(), 0)) as base:
        invoiced = {k: v for k, v in sandbox_env(base).items() if k.startswith("INVOICED_")}
        yield base, invoiced


def test_the_delay_changes_no_byte_and_counts_only_vendor_calls(
    upstream: tuple[str, dict[str, str]],
) -> None:
    base, invoiced = upstream
    with serve_in_thread(create_sandbox_app()) as plain:
        direct = httpx.get(
            f"{sandbox_env(plain)['INVOICED_API_URL']}/tasks",
            auth=(invoiced["INVOICED_API_KEY"], ""),
        )
    url = f"{invoiced['INVOICED_API_URL']}/tasks"
    undelayed = httpx.get(url, auth=(invoiced["INVOICED_API_KEY"], ""))
    set_latency(base, 1)
    delayed = httpx.get(url, auth=(invoiced["INVOICED_API_KEY"], ""))
    httpx.get(f"{invoiced['INVOICED_API_URL']}/_admin/changes")  # the benchmark's own traffic
    assert direct.status_code == undelayed.status_code == delayed.status_code == 200
    # Only the Link header names the server's own address, which differs between the two.
    assert undelayed.content == delayed.content == direct.content
    assert undelayed.headers["link"] == delayed.headers["link"]
    assert vendor_calls(base) == 2
    # By route, ids folded: which kind of call, not which item.
    httpx.get(f"{url}/7", auth=(invoiced["INVOICED_API_KEY"], ""))
    assert httpx.get(f"{base}{ROUTES_PATH}").json() == {
        "invoiced GET /tasks": 2,
        "invoiced GET /tasks/{id}": 1,
    }
    answered = httpx.get(f"{base}{LATENCY_PATH}").json()
    assert (answered["ms"], answered["calls"]) == (1, 3)
    # The vendor's answer times are counted (how long each call held its connection).
    assert vendor_answers(base)[1] > 0
    for wrong in ("-1", "soon"):
        assert httpx.post(f"{base}{LATENCY_PATH}", params={"ms": wrong}).status_code == 400


def test_the_parity_settings_are_read_and_turn_sharing_off() -> None:
    settings = settings_with(TASK_GATEWAY_PARITY)
    assert settings.gateway.cache is False
    assert settings.gateway.collapse_reads is False
    assert settings.gateway.poll is False


def test_tailcall_and_task_gateway_answer_the_sandboxs_pages(
    upstream: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    base, invoiced = upstream
    fill_to(invoiced, WIDE.tasks)
    small, wide = expected_rows(invoiced, SMALL), expected_rows(invoiced, WIDE)
    assert len(wide) == WIDE.tasks
    with tailcall(CPU, invoiced, tmp_path) as tail, task_gateway(CPU, invoiced, tmp_path) as ours:
        for contender in (tail, ours):
            calls = vendor_calls(base)
            checked = verified(contender, WIDE, wide)
            # Two requests, two vendor calls: nothing is shared between requests.
            assert vendor_calls(base) - calls == 2
            assert verified(contender, SMALL, small).expected_answer != checked.expected_answer
            with pytest.raises(SystemExit, match="other tasks"):
                verified(contender, SMALL, small[1:])
        # Tailcall checks the query against its schema (queryValidation) before any call.
        calls = vendor_calls(base)
        refused = httpx.post(tail.url, json={"query": "{ tasks(per_page: 1) { id nope } }"})
        assert refused.json().get("errors")
        assert vendor_calls(base) == calls
