"""Long steps report their parts (rows and rate) in the run's log and on the console."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from cartwheel import progress
from cartwheel.orchestration.logs import read_events
from tests.conftest import run_cli


def _parts(data_dir: Path) -> dict[tuple[str, str], int]:
    (log,) = (data_dir / "logs").glob("*.jsonl")
    return {(e["step"], e["part"]): e["rows"] for e in read_events(log, "progress")}


def test_every_long_step_reports_its_parts_with_their_rows(tmp_path: Path) -> None:
    raw, data = tmp_path / "raw", tmp_path / "data"
    run_cli("generate", "--scale", "0.05", "--out", str(raw))
    counts = json.loads((raw / "generation_metadata.json").read_text())["record_counts"]
    run_cli("run", "--input", str(raw), "--data-dir", str(data))
    parts = _parts(data)
    items, orders = counts["transaction_items"], counts["transactions"]
    for entity, rows in counts.items():
        assert parts["ingest", entity] == rows
        assert parts["production", entity] == rows
    # Clean files: every staged row is validated, every line becomes a fact.
    assert parts["quality", "customers_validated"] == counts["customers"]
    assert parts["quality", "products_validated"] == counts["products"]
    assert parts["quality", "transactions_validated"] == orders
    assert parts["quality", "transaction_items_validated_lines"] == items
    assert parts["quality", "transaction_items_validated"] == items
    assert parts["warehouse", "dim_customers"] == counts["customers"]
    assert parts["warehouse", "dim_products"] == counts["products"]
    assert parts["warehouse", "fact_sales"] == items
    assert parts["warehouse", "aggregates"] == items  # the facts the batch added


def test_a_second_batch_reports_only_the_facts_it_added(tmp_path: Path) -> None:
    raw, data = tmp_path / "raw", tmp_path / "data"
    run_cli("generate", "--scale", "0.05", "--out", str(raw))
    run_cli("run", "--input", str(raw), "--data-dir", str(data))
    for log in (data / "logs").glob("*.jsonl"):
        log.unlink()
    run_cli("run", "--input", str(raw), "--data-dir", str(data))  # the same rows again
    assert _parts(data)["warehouse", "aggregates"] == 0


@pytest.mark.parametrize(("seconds", "level"), [(0.2, logging.DEBUG), (1.5, logging.INFO)])
def test_only_parts_of_a_second_or_more_reach_the_console(
    caplog: pytest.LogCaptureFixture, seconds: float, level: int
) -> None:
    with caplog.at_level(logging.DEBUG, logger="cartwheel"):
        progress.report("quality", "transactions_validated", 1_200_000, seconds)
    (record,) = caplog.records
    assert record.levelno == level
    assert record.getMessage() == (
        f"quality: transactions_validated 1,200,000 rows in {seconds:.2f} s, "
        f"{1_200_000 / seconds:,.0f} rows/s"
    )
