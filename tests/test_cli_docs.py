"""docs/cli.md is the real --help output of every command."""

from tests.cli_docs import DOCS, render


def test_cli_reference_matches_the_help() -> None:
    assert DOCS.read_text() == render(), (
        "docs/cli.md is out of date: run `.venv/bin/python -m tests.cli_docs`"
    )
