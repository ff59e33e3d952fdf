"""Every ```graphql example in README.md is a valid, uniquely named operation, and each
runs against the live demo (`task-gateway demo`) without errors. Variables come from
the `# {...}` comment after an operation; placeholders such as "<a Task id>" are
filled with an id the demo has. The README's curl examples run too."""

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
from graphql import OperationDefinitionNode, parse, validate

from gateway.api.schema import build_schema

README = Path(__file__).parent.parent / "README.md"
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


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(README.read_text()) if lang == language]


def variables_after(block: str, end: int, next_start: int) -> dict[str, Any]:
    for line in block[end:next_start].splitlines():
        comment = line.strip()
        if comment.startswith("# {"):
            value, _ = json.JSONDecoder().raw_decode(comment[2:])
            assert isinstance(value, dict)
            return value
    return {}


def examples() -> list[Example]:
    found: list[Example] = []
    for block in blocks("graphql"):
        operations = [
            definition
            for definition in parse(block).definitions
            if isinstance(definition, OperationDefinitionNode)
        ]
        for index, operation in enumerate(operations):
            assert operation.name is not None, f"an anonymous operation in README:\n{block}"
            assert operation.loc is not None
            after = operations[index + 1].loc if index + 1 < len(operations) else None
            next_start = after.start if after is not None else len(block)
            variables = variables_after(block, operation.loc.end, next_start)
            found.append(Example(operation.name.value, block, variables))
    return found


EXAMPLES = examples()


def test_readme_operations_are_uniquely_named_and_valid() -> None:
    names = [example.name for example in EXAMPLES]
    assert len(names) >= 10
    assert len(set(names)) == len(names), names
    schema = build_schema()
    for block in blocks("graphql"):
        assert validate(schema._schema, parse(block)) == []


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
def test_readme_example_runs_against_the_demo(
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


def curl_commands() -> list[str]:
    commands = []
    for block in blocks("sh"):
        # Continuation lines join into one command.
        for command in block.replace("\\\n", " ").splitlines():
            if command.strip().startswith("curl "):
                commands.append(command.strip())
    return commands


def test_readme_curl_examples_run_against_the_demo(demo_url: str) -> None:
    if shutil.which("curl") is None:
        pytest.fail("curl is needed for the README's curl examples (apt-get install -y curl)")
    commands = curl_commands()
    assert len(commands) >= 3
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
