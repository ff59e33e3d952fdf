"""Tailcall 1.0 on the same upstream: its GraphQL config, written for the run, and its process.

Tailcall is configured like for like with the other two: one worker, the query checked
against the schema before it runs, and nothing shared between requests (no HTTP cache,
no batching, no dedupe of identical upstream calls). Tailcall 1.0's default executor
(``enableJIT``) skips ``queryValidation``: it answers a query naming an unknown field
with data. So the JIT is off, and Tailcall runs its validating executor. The one field,
``tasks(per_page:)``, is a GET of the Invoiced task list with the key as the Basic user,
as Hive's is.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.peer.contenders import (
    NODE_BIN,
    SNAKE_FIELDS,
    Contender,
    answers,
    base_env,
    snake_case_query,
    snake_case_row,
)
from benchmarks.peer.procs import free_port, pinned, wait_until

TAILCALL = NODE_BIN.parent / "@tailcallhq" / "core-linux-x64-gnu" / "bin" / "tailcall"

# The fields of an Invoiced task as the sandbox returns them, typed as Hive's OpenAPI says.
REQUIRED = {"id": "Int!", "name": "String!", "action": "String!", "complete": "Boolean!"}
TASK_FIELDS = {name: REQUIRED.get(name, "Int") for name in SNAKE_FIELDS}


def config(invoiced: dict[str, str], port: int) -> str:
    """Tailcall's ``.graphql`` config for the Invoiced sandbox named by ``invoiced``."""
    key = invoiced["INVOICED_API_KEY"]
    basic = base64.b64encode(f"{key}:".encode()).decode()
    url = f"{invoiced['INVOICED_API_URL']}/tasks"
    fields = "\n".join(f"  {name}: {kind}" for name, kind in TASK_FIELDS.items())
    return f"""\
schema
  @server(
    hostname: "127.0.0.1", port: {port}, workers: 1, queryValidation: true, enableJIT: false
  )
  @upstream(httpCache: 0) {{
  query: Query
}}

type Query {{
  tasks(per_page: Int): [Task!]!
    @http(
      url: {_quoted(url)}
      query: [{{key: "per_page", value: "{{{{.args.per_page}}}}", skipEmpty: true}}]
      headers: [{{key: "Authorization", value: {_quoted("Basic " + basic)}}}]
      dedupe: false
    )
}}

type Task {{
{fields}
}}
"""


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@contextmanager
def tailcall(cpu: int, invoiced: dict[str, str], workdir: Path) -> Iterator[Contender]:
    if not TAILCALL.exists():
        raise SystemExit("benchmarks/peer/node_modules is missing: run `make bench-peer` (npm ci)")
    port = free_port()
    path = workdir / "tailcall.graphql"
    path.write_text(config(invoiced, port))
    # No telemetry or usage report: TAILCALL_TRACKER=false is Tailcall's own switch.
    env = {**base_env(), "TAILCALL_TRACKER": "false", "TAILCALL_LOG_LEVEL": "error"}
    log = workdir / "tailcall.log"
    command = [str(TAILCALL), "start", str(path)]
    with pinned("tailcall", command, cpu=cpu, env=env, log=log, cwd=workdir) as proc:
        wait_until(proc, lambda: answers(f"http://127.0.0.1:{port}/status"))
        yield Contender(
            "tailcall", proc, f"http://127.0.0.1:{port}/graphql",
            snake_case_query, lambda data: data["tasks"], snake_case_row,
        )  # fmt: skip
