"""Shared fixtures: one real scale-factor-1 run that many tests read."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cartwheel.cli import app


def run_cli(*args: str) -> CliRunner:
    """Invoke `cartwheel ARGS` in-process; fails the test with the output on error."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="session")
def sf1_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data folder of `cartwheel run` at scale factor 1 with the default seed."""
    data_dir = tmp_path_factory.mktemp("sf1")
    run_cli("run", "--data-dir", str(data_dir))
    return data_dir


@pytest.fixture()
def sf1_db(sf1_run: Path):
    """A read-only connection to the scale-factor-1 warehouse."""
    con = duckdb.connect(str(sf1_run / "cartwheel.duckdb"), read_only=True)
    yield con
    con.close()
