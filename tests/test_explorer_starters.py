"""The explorer's starter tabs (explorer/src/starters.json) are the example operations
of docs/queries.md, each with the page's variables, and their placeholders are the ones
the page's examples name. The browser test runs them; this keeps them from drifting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from graphql import OperationDefinitionNode, parse, print_ast

from tests.test_docs_examples import PLACEHOLDERS, QUERIES, page_examples

STARTERS = Path(__file__).parent.parent / "explorer" / "src" / "starters.json"


def starters() -> dict[str, Any]:
    loaded = json.loads(STARTERS.read_text())
    assert isinstance(loaded, dict)
    return loaded


def operations(document: str) -> dict[str, str]:
    found = {}
    for definition in parse(document).definitions:
        if isinstance(definition, OperationDefinitionNode):
            assert definition.name is not None
            found[definition.name.value] = print_ast(definition)
    return found


def test_each_starter_tab_is_one_named_operation() -> None:
    for tab in starters()["tabs"]:
        assert len(operations(tab["query"])) == 1, tab["query"]


def test_the_starter_tabs_are_the_docs_examples_with_their_variables() -> None:
    tabs = {}
    for tab in starters()["tabs"]:
        [(name, printed)] = operations(tab["query"]).items()
        tabs[name] = (printed, tab.get("variables", {}))
    documented = {
        example.name: (operations(example.document)[example.name], example.variables)
        for example in page_examples(QUERIES)
    }
    assert tabs == documented


def test_the_placeholders_are_the_docs_examples_placeholders() -> None:
    ids = starters()["ids"]
    assert set(ids) == set(PLACEHOLDERS)
    # Each names the root field whose first id fills it, as the docs test fills it.
    for placeholder, field in ids.items():
        assert PLACEHOLDERS[placeholder].startswith(f"{{ {field}(first: 1)")
