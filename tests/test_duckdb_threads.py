"""DuckDB runs a small batch on one thread: its tables fit in one row group, the unit
DuckDB parallelises over, so more threads would only add their set-up."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cartwheel.engines import duckdb as duckdb_engine
from cartwheel.engines.duckdb import DuckDBEngine
from cartwheel.ingest import ingest
from cartwheel.ingest.raw_files import csv_equivalent_bytes

OWN_SHOP = Path(__file__).parent / "fixtures" / "own_shop"
MB = 2**20


def threads(engine: DuckDBEngine) -> int:
    return int(engine.scalar("select current_setting('threads')"))


@pytest.fixture()
def default_threads() -> int:
    return int(duckdb.connect().execute("select current_setting('threads')").fetchall()[0][0])


def test_a_small_batch_into_a_small_database_runs_on_one_thread(tmp_path: Path) -> None:
    engine = DuckDBEngine(str(tmp_path / "shop.duckdb"))
    engine.fit_threads(2 * MB)  # scale factor 1 is 1.8 MB of CSV
    assert threads(engine) == 1
    engine.reconnect()  # a fresh connection after a transient error keeps it
    assert threads(engine) == 1


def test_a_large_batch_gets_every_thread(tmp_path: Path, default_threads: int) -> None:
    engine = DuckDBEngine(str(tmp_path / "shop.duckdb"))
    engine.fit_threads(2 * MB)
    engine.fit_threads(9 * MB)  # the next batch is large: back to DuckDB's own setting
    assert threads(engine) == default_threads
    engine.reconnect()
    assert threads(engine) == default_threads


def test_a_small_batch_into_a_large_database_gets_every_thread(
    tmp_path: Path, default_threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "shop.duckdb"
    engine = DuckDBEngine(str(path))
    engine.execute("create table facts as select range as sale from range(100000)")
    engine.execute("checkpoint")
    monkeypatch.setattr(duckdb_engine, "SERIAL_DATABASE_BYTES", path.stat().st_size)
    engine.fit_threads(1000)  # one more day into a warehouse of this size
    assert threads(engine) == default_threads


def test_parquet_counts_three_times_its_size(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_bytes(b"x" * 100)
    (tmp_path / "transactions.parquet").write_bytes(b"x" * 50)
    assert csv_equivalent_bytes(sorted(tmp_path.iterdir())) == 250


def test_ingesting_a_shops_small_export_leaves_one_thread() -> None:
    engine = DuckDBEngine(":memory:")
    loads = ingest(engine, OWN_SHOP, batch_id="own_shop")
    assert sum(load.rows_loaded for load in loads) > 0
    assert threads(engine) == 1
