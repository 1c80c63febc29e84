"""Every link between the repository's Markdown pages leads somewhere, and none leaves it."""

from __future__ import annotations

import re
from pathlib import Path

from cartwheel.contract import RAW_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([*ROOT.glob("*.md"), *(ROOT / "docs").glob("*.md")])
LINK = re.compile(r"\]\(([^)\s]+)\)")


def broken_links(page: Path, text: str) -> list[str]:
    """Relative link targets of `text` (a page at `page`) that are missing or outside."""
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        if not path.exists() or not path.is_relative_to(ROOT):
            broken.append(target)
    return broken


def test_pages_are_found() -> None:
    names = {page.relative_to(ROOT).as_posix() for page in PAGES}
    assert {"README.md", "CHANGELOG.md", "docs/configuration.md", "docs/deploy.md"} <= names


def test_every_relative_link_resolves_inside_the_repository() -> None:
    broken = {
        page.relative_to(ROOT).as_posix(): links
        for page in PAGES
        if (links := broken_links(page, page.read_text()))
    }
    assert broken == {}


def test_a_link_out_of_the_repository_or_to_nothing_is_caught() -> None:
    page = ROOT / "docs" / "deploy.md"
    text = "[contract](../../outside/NOTES.md) [cli](cli.md) [gone](gone.md) [web](https://x.org)"
    assert broken_links(page, text) == ["../../outside/NOTES.md", "gone.md"]


def test_own_data_page_lists_the_contract_columns_in_order() -> None:
    rows = {
        line.split("`")[1]: re.findall(r"`([a-z_]+)`", line.split("|")[2])
        for line in (ROOT / "docs" / "own-data.md").read_text().splitlines()
        if line.startswith("| `")
    }
    assert rows == {entity: list(columns) for entity, columns in RAW_COLUMNS.items()}
