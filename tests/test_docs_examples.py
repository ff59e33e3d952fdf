"""The documentation's examples run against the live demo (`task-gateway demo`).

Every ```graphql example of the example-queries page (and the one query of README.md and
the docs' home page) is a valid, named operation, and each runs without errors. Variables
come from the `# {...}` comment after an operation; placeholders such as "<a Task id>" are
filled with an id the demo has. Where a query is followed by a ```json block, that is its
answer, and the demo must give exactly it. The curl examples of README.md and the pages
that have them run too."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, OperationType, parse, validate

from gateway.api.schema import build_schema

ROOT = Path(__file__).parent.parent
QUERIES = ROOT / "docs" / "queries.md"
# Pages whose ```graphql blocks are run: the example queries, and the one query of each
# front page (with its answer).
GRAPHQL_PAGES = (QUERIES, ROOT / "docs" / "index.md", ROOT / "README.md")
# Pages whose ```sh blocks hold curl examples against the demo.
CURL_PAGES = (
    ROOT / "README.md",
    ROOT / "docs" / "limits.md",
    ROOT / "docs" / "browsers.md",
)
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)
HEADERS = {"Accept": "application/graphql-response+json"}

# Placeholder -> a query whose first node's id fills it.
PLACEHOLDERS = {
    "<a Task id>": "{ tasks(first: 1) { nodes { id } } }",
    "<a Project id>": "{ projects(first: 1) { nodes { id } } }",
    "<a Todo id>": "{ todos(first: 1) { nodes { id } } }",
}


@dataclass(frozen=True)
class Example:
    name: str
    document: str
    variables: dict[str, Any]
    answer: dict[str, Any] | None


def fenced(page: Path) -> list[tuple[str, str]]:
    """The page's fenced blocks, as (language, body), in order."""
    return BLOCK.findall(page.read_text())


def blocks(page: Path, language: str) -> list[str]:
    return [body for lang, body in fenced(page) if lang == language]


def variables_after(block: str, end: int, next_start: int) -> dict[str, Any]:
    for line in block[end:next_start].splitlines():
        comment = line.strip()
        if comment.startswith("# {"):
            value, _ = json.JSONDecoder().raw_decode(comment[2:])
            assert isinstance(value, dict)
            return value
    return {}


def page_examples(page: Path) -> list[Example]:
    found: list[Example] = []
    pieces = fenced(page)
    for position, (language, block) in enumerate(pieces):
        if language != "graphql":
            continue
        following = pieces[position + 1] if position + 1 < len(pieces) else ("", "")
        operations = [
            definition
            for definition in parse(block).definitions
            if isinstance(definition, OperationDefinitionNode)
        ]
        for index, operation in enumerate(operations):
            assert operation.name is not None, f"an anonymous operation in {page.name}:\n{block}"
            assert operation.loc is not None
            after = operations[index + 1].loc if index + 1 < len(operations) else None
            next_start = after.start if after is not None else len(block)
            variables = variables_after(block, operation.loc.end, next_start)
            # A ```json block right after a block of one operation is its answer.
            answer = json.loads(following[1]) if following[0] == "json" else None
            assert answer is None or len(operations) == 1, f"whose answer? {page.name}:\n{block}"
            found.append(Example(operation.name.value, block, variables, answer))
    return found


def examples() -> list[Example]:
    by_name: dict[str, Example] = {}
    for page in GRAPHQL_PAGES:
        for example in page_examples(page):
            seen = by_name.setdefault(example.name, example)
            # One name, one operation: the same query may be shown on two pages.
            assert seen == example, f"two operations named {example.name}"
    return list(by_name.values())


def is_subscription(example: Example) -> bool:
    [operation] = [
        definition
        for definition in parse(example.document).definitions
        if isinstance(definition, OperationDefinitionNode)
        and definition.name is not None
        and definition.name.value == example.name
    ]
    return operation.operation == OperationType.SUBSCRIPTION


# A subscription answers only once something changes, which a request cannot wait
# for here: the page's subscription runs in the explorer, where the browser test makes
# the change and sees the event (tests/test_browser_subscriptions.py); every example is
# validated above all the same.
EXAMPLES = [example for example in examples() if not is_subscription(example)]


def test_example_queries_are_uniquely_named_and_valid() -> None:
    names = [example.name for example in page_examples(QUERIES)]
    assert len(names) >= 10
    assert len(set(names)) == len(names), names
    schema = build_schema()
    for page in GRAPHQL_PAGES:
        for block in blocks(page, "graphql"):
            assert validate(schema._schema, parse(block)) == [], page.name


def test_the_front_pages_show_a_query_with_its_answer() -> None:
    for page in GRAPHQL_PAGES[1:]:
        assert any(example.answer for example in page_examples(page)), page.name


def fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    if isinstance(value, str) and value in PLACEHOLDERS:
        return ids[value]
    return value


@pytest.fixture(scope="module")
def demo_ids(demo_url: str) -> dict[str, str]:
    ids = {}
    for placeholder, query in PLACEHOLDERS.items():
        body = httpx.post(f"{demo_url}/graphql", json={"query": query}, timeout=30).json()
        [connection] = body["data"].values()
        ids[placeholder] = connection["nodes"][0]["id"]
    return ids


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.name for example in EXAMPLES])
def test_docs_example_runs_against_the_demo(
    example: Example, demo_url: str, demo_ids: dict[str, str]
) -> None:
    payload = {
        "query": example.document,
        "operationName": example.name,
        "variables": fill(example.variables, demo_ids),
    }
    response = httpx.post(f"{demo_url}/graphql", json=payload, headers=HEADERS, timeout=30)
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body["errors"]
    assert body["data"]
    if example.answer is not None:
        # How old each vendor's part is depends on what ran before (docs/freshness.md).
        freshness = body.get("extensions", {}).pop("freshness", None)
        assert freshness is not None
        body = {key: value for key, value in body.items() if value != {}}
        assert body == example.answer


def curl_commands() -> list[str]:
    commands = []
    for page in CURL_PAGES:
        for block in blocks(page, "sh"):
            # Continuation lines join into one command.
            for command in block.replace("\\\n", " ").splitlines():
                if command.strip().startswith("curl "):
                    commands.append(command.strip())
    return commands


def test_docs_curl_examples_run_against_the_demo(demo_url: str) -> None:
    if shutil.which("curl") is None:
        pytest.fail("curl is needed for the docs' curl examples (apt-get install -y curl)")
    commands = curl_commands()
    assert len(commands) >= 6
    for command in commands:
        argv = [arg.replace("http://127.0.0.1:8000", demo_url) for arg in shlex.split(command)]
        result = subprocess.run(
            [*argv, "--silent", "--show-error", "--fail-with-body"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        body = json.loads(result.stdout)
        assert "errors" not in body and body["data"], (command, body)
