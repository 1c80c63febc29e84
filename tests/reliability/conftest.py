"""Helpers of the reliability suite: the real `cartwheel` entry point, run in-process."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pytest

from cartwheel.cli import main


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@pytest.fixture()
def cartwheel(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """`cartwheel(*args)` runs the installed entry point (with its last-resort guard) and
    returns the exit code and what it printed."""

    def invoke(*args: str) -> Outcome:
        monkeypatch.setattr(sys, "argv", ["cartwheel", *args])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return invoke


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 - pytest's reporter
    """The corpus tally (`make selfcheck` shows it to a user), when corpus cases ran."""
    from tests.reliability.tally import TALLY

    if TALLY.cases:
        for line in TALLY.lines():
            terminalreporter.write_line(line)
