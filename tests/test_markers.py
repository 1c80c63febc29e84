"""The markers pyproject.toml declares are the project's own markers the tests use: none
declared and unused, none used and undeclared."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# pytest's own markers, which need no declaration.
BUILT_IN = {"parametrize", "skip", "skipif", "xfail", "usefixtures", "filterwarnings"}
MARK = re.compile(r"pytest\.mark\.([a-z_]+)")


def declared(pyproject: str) -> set[str]:
    options = tomllib.loads(pyproject)["tool"]["pytest"]["ini_options"]
    return {line.split(":", 1)[0] for line in options["markers"]}


def used(test_files: list[Path]) -> set[str]:
    return {name for path in test_files for name in MARK.findall(path.read_text())} - BUILT_IN


def test_every_declared_marker_is_used_and_every_used_one_declared() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert declared(pyproject) == used(sorted((ROOT / "tests").rglob("*.py")))


def test_a_marker_declared_but_unused_is_found() -> None:
    """Negative: the xdist_group marker, declared again, is one that no test uses."""
    pyproject = (
        (ROOT / "pyproject.toml")
        .read_text()
        .replace("markers = [", 'markers = [\n    "xdist_group: tests that run in one worker",', 1)
    )
    unused = declared(pyproject) - used(sorted((ROOT / "tests").rglob("*.py")))
    assert unused == {"xdist_group"}
