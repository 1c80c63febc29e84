"""One version everywhere: the package source (which pyproject.toml reads), the package
metadata, --version, the run report."""

from __future__ import annotations

import ast
import json
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from typer.testing import CliRunner

import cartwheel
from cartwheel.cli import app

ROOT = Path(__file__).resolve().parent.parent


def project_version() -> str:
    """The version literal of src/cartwheel/__init__.py, read without importing it."""
    module = ast.parse((ROOT / "src" / "cartwheel" / "__init__.py").read_text())
    (value,) = [
        node.value.value
        for node in module.body
        if isinstance(node, ast.Assign)
        and [target.id for target in node.targets if isinstance(target, ast.Name)]
        == ["__version__"]
        and isinstance(node.value, ast.Constant)
    ]
    return value


def test_pyproject_takes_the_version_from_the_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "cartwheel.__version__"}


def test_metadata_carries_the_pyproject_version() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", project_version()), "semantic version MAJOR.MINOR.PATCH"
    assert version("cartwheel") == project_version(), (
        "the installed metadata is stale: reinstall (make .venv/.installed)"
    )
    assert cartwheel.__version__ == project_version()


def test_version_option_prints_the_version_and_exits_zero() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output == f"cartwheel {project_version()}\n"


def test_run_report_names_the_version(sf1_run: Path) -> None:
    report = json.loads((sf1_run / "pipeline_execution_report.json").read_text())
    assert report["cartwheel_version"] == project_version()


def test_changelog_has_a_section_for_this_version() -> None:
    headings = re.findall(r"^## \[([^\]]+)\]", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert project_version() in headings, f"CHANGELOG.md has no section [{project_version()}]"
    releases = [heading for heading in headings if heading != "Unreleased"]
    assert releases == sorted(
        releases, key=lambda v: tuple(int(part) for part in v.split(".")), reverse=True
    ), "CHANGELOG.md sections must run newest first"
