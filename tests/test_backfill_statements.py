"""A run over many daily batches pays its set-up once: the schemas, the ops tables and
the vocabulary are created by the first batch only, and ingest counts a batch's
unparseable records in one query. The per-batch results stay exactly those of one batch
(rejects per file, staging rows replaced or appended)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from cartwheel.engines.duckdb import DuckDBEngine
from cartwheel.engines.duckdb_publish import Changes
from cartwheel.ingest import ingest
from tests.conftest import run_cli
from tests.test_batch_groups import DAYS, write_days
from tests.test_ingest_malformed import CLEAN, HEADERS, write_batch

# Statements of the per-run set-up, by how they start.
SETUP = (
    "create schema if not exists staging",
    "drop table if exists ops.vocabulary",
    "drop table if exists ops.bands",
    "drop table if exists ops.date_window",
)
SETUP_DDL = ("ops.processed_batches", "ops.quality_results", "ops.batch_conservation")


def count_setup(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Spy on every statement the DuckDB engine runs; counts the set-up statements."""
    seen: Counter[str] = Counter()
    original = DuckDBEngine.query

    def spy(self: DuckDBEngine, sql: str, params=None):  # noqa: ANN001, ANN202
        text = " ".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
        text = " ".join(text.split()).lower()
        for start in SETUP:
            if text.startswith(start):
                seen[start] += 1
        for table in SETUP_DDL:
            if text.startswith(f"create table if not exists {table} "):
                seen[table] += 1
        return original(self, sql, params)

    monkeypatch.setattr(DuckDBEngine, "query", spy)
    return seen


def first_days(count: int) -> dict:
    return dict(list(DAYS.items())[:count])


def test_the_set_up_runs_once_per_run_whatever_the_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = count_setup(monkeypatch)
    counts = {}
    for days in (2, len(DAYS)):
        seen.clear()
        input_dir = write_days(tmp_path / f"in-{days}", first_days(days))
        run_cli("run", "--input", str(input_dir), "--data-dir", str(tmp_path / f"data-{days}"))
        counts[days] = dict(seen)
    # Four more batches, not one more set-up statement.
    assert counts[2] == counts[len(DAYS)]
    # The vocabulary and the quality history tables: once, by the first batch.
    for name in (*SETUP[1:], "ops.quality_results", "ops.batch_conservation"):
        assert counts[2][name] == 1, name


def test_a_step_run_alone_over_batches_sets_up_every_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spy counts per batch where nothing of the run created the tables before:
    `cartwheel ingest` alone writes the vocabulary for each of its batches."""
    seen = count_setup(monkeypatch)
    input_dir = write_days(tmp_path / "in", first_days(3))
    run_cli("ingest", "--input", str(input_dir), "--data-dir", str(tmp_path / "data"))
    assert seen["drop table if exists ops.vocabulary"] == 3


def broken(entity: str, *lines: str) -> dict[str, list[str]]:
    """The clean batch with unparseable lines added to one entity's file."""
    return {**CLEAN, entity: [*CLEAN[entity], *lines]}


def test_each_file_reports_its_own_rejected_records(tmp_path: Path) -> None:
    engine = DuckDBEngine(str(tmp_path / "db.duckdb"))
    lines = {
        **broken("customers", "CUST0005,Eoin,Byrne"),  # too few fields
        "transactions": [
            *CLEAN["transactions"],
            'TXN00005,CUST0002,2024-01-14,09:00:00,UPI,"5 Pine St, Boston, MA",10.00,extra',
            "TXN00006,CUST0003",
        ],
    }
    day_one = write_batch(tmp_path / "2024-01-14", lines)
    loads = {load.table: load for load in ingest(engine, day_one, batch_id="2024-01-14")}
    assert {table: load.rows_rejected for table, load in loads.items()} == {
        "customers": 1,
        "products": 0,
        "transactions": 2,
        "transaction_items": 0,
    }
    assert loads["customers"].status == "warning"
    assert loads["customers"].error_message == "customers.csv: 1 unparseable record(s) quarantined"
    assert loads["transactions"].error_message == (
        "transactions.csv: 2 unparseable record(s) quarantined"
    )
    assert loads["products"].status == "success"
    assert loads["products"].error_message is None
    assert {table: load.rows_loaded for table, load in loads.items()} == {
        "customers": 4,
        "products": 3,
        "transactions": 4,
        "transaction_items": 5,
    }
    # A later clean batch counts only its own records, though the first one's are held.
    day_two = write_batch(tmp_path / "2024-01-15")
    later = ingest(engine, day_two, batch_id="2024-01-15", tables_ready=True)
    assert [(load.rows_rejected, load.status) for load in later] == [(0, "success")] * 4
    assert engine.scalar("select count(*) from ops.quarantine") == 3
    # Reloading the first batch with its files repaired replaces its quarantined records.
    write_batch(day_one)
    reloaded = ingest(engine, day_one, batch_id="2024-01-14", tables_ready=True)
    assert [load.rows_rejected for load in reloaded] == [0, 0, 0, 0]
    assert engine.scalar("select count(*) from ops.quarantine") == 0
    engine.close()


def test_a_reloaded_batch_marks_its_staging_table_modified(tmp_path: Path) -> None:
    """What the publish writes again depends on it: a new batch only appends rows, a
    batch loaded again replaces them."""
    engine = DuckDBEngine(str(tmp_path / "db.duckdb"))
    ingest(engine, write_batch(tmp_path / "2024-01-14"), batch_id="2024-01-14")
    folder = tmp_path / "2024-01-14"
    columns = HEADERS["customers"].split(",")
    engine.changes = Changes()
    assert engine.load_staging("customers", columns, folder / "customers.csv", "2024-01-15") == 4
    assert engine.changes.tables["staging.customers"] == "appended"
    engine.changes = Changes()
    assert engine.load_staging("customers", columns, folder / "customers.csv", "2024-01-14") == 4
    assert engine.changes.tables["staging.customers"] == "modified"
    assert engine.scalar("select count(*) from staging.customers") == 8
    engine.close()
