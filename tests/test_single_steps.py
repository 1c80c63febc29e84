"""A step run on its own before the steps it reads from: one clear line, exit code 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cartwheel.cli import app

# The step, and the step whose tables it reads first (a fresh data folder has none).
NEEDS = {
    "quality": ("ingest", "staging.customers"),
    "production": ("ingest", "staging.customers"),
    "warehouse": ("production", "production.customers"),
    "analytics": ("warehouse", "warehouse.dim_date"),
    "dashboard": ("warehouse", "warehouse.dim_date"),
}


@pytest.mark.parametrize("step", sorted(NEEDS))
def test_a_step_on_a_fresh_data_folder_names_the_step_to_run_first(
    step: str, tmp_path: Path
) -> None:
    data = tmp_path / "fresh"
    result = CliRunner().invoke(app, [step, "--data-dir", str(data)])
    writer, table = NEEDS[step]
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "CatalogException" not in result.output
    assert (
        f"error: {step}: nothing from {writer} in {data} yet ({table} is missing): "
        f"run `cartwheel {writer}` first, or `cartwheel run`"
    ) in " ".join(result.output.split())
