"""`pyarrow.parquet` is imported only where Parquet is read or written
(`cartwheel.parquet`): a CSV run never pays for it, a Parquet run gets it on first use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Run in a fresh interpreter (this one has imported pyarrow.parquet long ago): generate
# at a small scale, ingest, and print whether the module was imported.
STEPS = """
import sys
from typer.testing import CliRunner
from cartwheel.cli import app
data, file_format = sys.argv[1:]
for args in (
    ["generate", "--scale", "0.01", "--format", file_format],
    ["ingest"],
):
    result = CliRunner().invoke(app, [*args, "--data-dir", data])
    assert result.exit_code == 0, result.output
print("pyarrow.parquet" in sys.modules)
"""


@pytest.mark.parametrize(("file_format", "imported"), [("csv", "False"), ("parquet", "True")])
def test_pyarrow_parquet_is_imported_for_parquet_files_only(
    tmp_path: Path, file_format: str, imported: str
) -> None:
    found = subprocess.run(
        [sys.executable, "-c", STEPS, str(tmp_path / "data"), file_format],
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.splitlines()[-1] == imported
