"""Light commands load no heavy library: `--help`, `--version` and `status` start fast.

duckdb, pyarrow and numpy cost about 0.5 CPU s to import together; a command's help never
needs them, and `status` needs duckdb alone. The modules a fresh interpreter imported are
read from `python -X importtime`, which names every one of them on stderr.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = {"duckdb", "pyarrow", "numpy", "pandas"}


def imported(*arguments: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `python -X importtime *arguments`; the finished process and what it imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return done, modules


@pytest.mark.parametrize(
    "command",
    [["--help"], ["--version"], ["run", "--help"], ["import", "--help"], ["status", "--help"]],
)
def test_help_and_version_import_no_heavy_library(command: list[str]) -> None:
    done, modules = imported("-m", "cartwheel", *command)
    assert done.returncode == 0, done.stderr[-500:]
    assert "cartwheel.cli" in modules  # the command really ran through the CLI
    assert modules & HEAVY == set()


def test_status_imports_duckdb_but_not_pyarrow_numpy_or_pandas(tmp_path: Path) -> None:
    done, modules = imported("-m", "cartwheel", "status", "--data-dir", str(tmp_path))
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"{tmp_path / 'cartwheel.duckdb'}: no warehouse yet (run cartwheel run)" in done.stderr
    assert modules & HEAVY == {"duckdb"}


def test_the_check_sees_a_heavy_import() -> None:
    # The negative case: a module that does load the heavy libraries is caught by the same
    # reading of -X importtime (the DuckDB engine: duckdb; the staging reader: all three).
    _, engine = imported("-c", "import cartwheel.engines.duckdb")
    assert engine & HEAVY == {"duckdb"}
    _, staging = imported("-c", "import cartwheel.engines.duckdb_staging")
    assert staging & HEAVY == {"duckdb", "pyarrow", "numpy"}
