"""The documentation holds: every setting has a row in the configuration table, README.md
stays a short front page whose links land, and the repository paths the pages name exist.
(Links and anchors inside the site are checked by `mkdocs build --strict`, `make docs`.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown.extensions.toc import slugify

from gateway.core.settings import GatewaySettings
from gateway.registry import PLUGINS

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
CONFIGURATION = DOCS / "configuration.md"
FRONT_PAGES = (ROOT / "README.md", ROOT / "CONTRIBUTING.md")
PAGES = sorted(DOCS.rglob("*.md"))
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (.+?)\s*$", re.MULTILINE)
FENCE = re.compile(r"^ *```.*?^ *```", re.DOTALL | re.MULTILINE)
# A repository path in backticks: a top-level folder of the project, then more segments.
TOP_LEVEL = sorted(path.name for path in ROOT.iterdir() if path.is_dir() and path.name[0] != ".")
PATH = re.compile(rf"`((?:{'|'.join(map(re.escape, TOP_LEVEL))})/[\w./-]*)`")
# A Markdown file named alone (`CONTRIBUTING.md`): at the root or in docs/.
MARKDOWN_FILE = re.compile(r"`([\w-]+\.md)`")


def setting_names() -> set[str]:
    names = set()
    for section in (GatewaySettings, *(plugin.settings for plugin in PLUGINS)):
        prefix = section.model_config.get("env_prefix", "")
        names |= {f"{prefix}{field}".upper() for field in section.model_fields}
    return names


def configuration_rows() -> set[str]:
    """The variables named in the first column of the configuration table."""
    named = set()
    for line in CONFIGURATION.read_text().splitlines():
        if line.startswith("| `"):
            first_column = line.split("|")[1]
            named |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_column))
    return named


def test_every_setting_is_in_the_configuration_table() -> None:
    names = setting_names()
    assert len(names) > 60
    missing = sorted(names - configuration_rows())
    assert not missing, f"variables without a row in docs/configuration.md: {missing}"


def test_the_configuration_table_names_no_unknown_variable() -> None:
    # OTEL_* belong to the OpenTelemetry SDK, which reads them itself.
    unknown = {name for name in configuration_rows() - setting_names() if name[:5] != "OTEL_"}
    assert not unknown, f"rows for variables no setting reads: {sorted(unknown)}"


def test_the_readme_is_a_short_front_page() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) < 200, len(lines)


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text())
    return {slugify(heading, "-") for heading in HEADING.findall(text)}


@pytest.mark.parametrize("page", FRONT_PAGES, ids=[page.name for page in FRONT_PAGES])
def test_front_page_links_land(page: Path) -> None:
    """README.md and CONTRIBUTING.md are outside the site: their relative links are checked
    here, each to an existing file and, for a Markdown target, an existing heading."""
    broken = []
    for target in LINK.findall(FENCE.sub("", page.read_text())):
        if re.match(r"[a-z]+:", target):
            continue  # http:, https:, mailto:
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        lands = file.exists() and not (
            anchor and file.suffix == ".md" and anchor not in anchors(file)
        )
        if not lands:
            broken.append(target)
    assert not broken, f"{page.name}: {broken}"


@pytest.mark.parametrize(
    "page", [*PAGES, *FRONT_PAGES], ids=[str(p.relative_to(ROOT)) for p in [*PAGES, *FRONT_PAGES]]
)
def test_named_repository_paths_exist(page: Path) -> None:
    named = {path.rstrip("/") for path in PATH.findall(page.read_text())}
    # Installed by npm or generated: named, but absent from a fresh checkout.
    generated = {path for path in named if "node_modules" in path or "explorer_assets" in path}
    missing = sorted(path for path in named - generated if not (ROOT / path).exists())
    missing += sorted(
        name
        for name in set(MARKDOWN_FILE.findall(page.read_text()))
        if not (ROOT / name).exists() and not (DOCS / name).exists()
    )
    assert not missing, f"{page.relative_to(ROOT)} names paths that do not exist: {missing}"
