"""A step run on its own before the steps it reads from: one clear line, exit code 1."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cartwheel.cli import app
from cartwheel.orchestration.steps import STEPS, Step

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


def reads_no_earlier_step_writes(steps: Iterable[Step]) -> list[tuple[str, str]]:
    """(step, table) for every table a step reads that no step before it writes."""
    written: set[str] = set()
    missing = []
    for step in steps:
        missing += [(step.name, table) for table in step.reads if table not in written]
        written.update(step.writes)
    return missing


def test_every_table_a_step_reads_is_written_by_an_earlier_step() -> None:
    """So the runner's look-up of the step to run first always finds one (no StopIteration)."""
    assert reads_no_earlier_step_writes(STEPS.values()) == []
    assert sum(len(step.reads) for step in STEPS.values()) == 30  # not vacuous


def test_a_read_nobody_writes_and_a_step_before_its_writer_are_found() -> None:
    steps = dict(STEPS)
    steps["analytics"] = dataclasses.replace(
        STEPS["analytics"], reads=(*STEPS["analytics"].reads, "warehouse.dim_weather")
    )
    assert reads_no_earlier_step_writes(steps.values()) == [("analytics", "warehouse.dim_weather")]
    names = ["generate", "ingest", "quality", "warehouse", "production", "analytics", "dashboard"]
    assert sorted(names) == sorted(STEPS)
    reordered = [STEPS[name] for name in names]
    assert reads_no_earlier_step_writes(reordered) == [
        ("warehouse", f"production.{entity}")
        for entity in ("customers", "products", "transactions", "transaction_items")
    ]
