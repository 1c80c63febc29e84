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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With `make test` (pytest-xdist, `--dist loadfile`) a module's tests run in one
    worker, so its module-scoped fixtures (a generated world, a PostgreSQL database, the
    Spark session) are built once. The heaviest modules come first (the Spark parity
    module, the longest, then those with slow tests), and `--no-loadscope-reorder` hands
    the modules out in this order, so the longest work starts at once and the short
    modules fill the gaps. (`--dist loadgroup` no longer groups under pytest 9.2: xdist
    3.8 renames a test's old `_nodeid` field, which pytest stopped reading.)"""

    def module(item: pytest.Item) -> str:
        return item.nodeid.split("::", 1)[0]

    spark = {module(item) for item in items if item.get_closest_marker("spark")}
    slow = {module(item) for item in items if item.get_closest_marker("slow")}
    # A stable sort keeps the order within each kind.
    items.sort(key=lambda item: (module(item) not in spark, module(item) not in slow))


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
