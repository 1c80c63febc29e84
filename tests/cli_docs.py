"""Render `cartwheel --help` and every sub-command's help into docs/cli.md.

    .venv/bin/python -m tests.cli_docs      # rewrite docs/cli.md

tests/test_cli_docs.py fails when docs/cli.md and the real help have drifted apart.
"""

from __future__ import annotations

from pathlib import Path

import typer.main
from typer.testing import CliRunner

from cartwheel.cli import app

DOCS = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
ENV = {"COLUMNS": "100", "TERMINAL_WIDTH": "100", "NO_COLOR": "1", "TERM": "dumb"}


def help_text(*command: str) -> str:
    result = CliRunner().invoke(app, [*command, "--help"], prog_name="cartwheel", env=ENV)
    assert result.exit_code == 0, result.output
    return "\n".join(line.rstrip() for line in result.output.strip("\n").splitlines())


def render() -> str:
    names = list(typer.main.get_command(app).commands)
    parts = [
        "# The `cartwheel` command\n",
        "Generated from the real `--help` output by `python -m tests.cli_docs`; a test keeps",
        "it current.\n",
        "```\n$ cartwheel --help\n" + help_text() + "\n```\n",
    ]
    for name in names:
        parts.append(f"## cartwheel {name}\n")
        parts.append(f"```\n$ cartwheel {name} --help\n" + help_text(name) + "\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    DOCS.write_text(render())
    print(f"wrote {DOCS}")
