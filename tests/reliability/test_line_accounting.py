"""Records are counted apart from the CSV parser (physical lines, from the bytes) and
reconciled per file: every non-empty line after the header belongs to a staged or a
rejected record; a line none claims is quarantined (`unaccounted_line`), never lost."""

from __future__ import annotations

from pathlib import Path

import pytest

import cartwheel.engines.duckdb_staging as staging
from cartwheel.engines.duckdb import DuckDBEngine
from cartwheel.ingest import ingest
from tests.reliability.base import ROWS, csv_bytes, write_base


def held(engine: DuckDBEngine, entity: str) -> list[tuple[int, str, str]]:
    return engine.query(
        "select source_line, reason, raw_content from ops.quarantine "
        "where entity = ? and stage = 'ingest' order by source_line",
        [entity],
    )


def test_lines_the_reader_drops_are_quarantined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader that silently drops records (injected: lines 3 and 5 vanish after the
    parse) still accounts for every line."""
    read = staging._read_csv

    def lossy(con, *args, **kwargs) -> None:  # noqa: ANN001 - DuckDB's connection
        read(con, *args, **kwargs)
        con.execute(f"delete from {staging.READ} where source_line in (3, 5)").fetchall()

    monkeypatch.setattr(staging, "_read_csv", lossy)
    engine = DuckDBEngine(":memory:")
    loads = ingest(engine, write_base(tmp_path / "b"), batch_id="b", run_id="r")
    staged = {load.table: load.rows_loaded for load in loads}
    assert staged == {"customers": 3, "products": 2, "transactions": 3, "transaction_items": 5}
    rows = ROWS["customers"]
    assert held(engine, "customers") == [
        (3, "unaccounted_line", rows[1]),
        (5, "unaccounted_line", rows[3]),
    ]


def test_unterminated_quote_followed_by_more_than_10_kb_loses_nothing(tmp_path: Path) -> None:
    pad = "x" * 100
    extra = [
        f"CUST{n:04d},Pat,{pad},pat{n}@example.com,5550000000,2023-06-01,Reno,NV,USA,26-35"
        for n in range(100, 220)
    ]
    broken = 'CUST0002,"Angus,MacDonald,angus@example.com,5559876543,2023-02-11,Austin,TX,USA,36-45'
    rows = [ROWS["customers"][0], broken, *ROWS["customers"][2:], *extra]
    folder = write_base(tmp_path / "b", {"customers": csv_bytes("customers", rows)})
    engine = DuckDBEngine(":memory:")
    loads = ingest(engine, folder, batch_id="b", run_id="r")
    staged = next(load.rows_loaded for load in loads if load.table == "customers")
    rejected = held(engine, "customers")
    assert staged + len(rejected) == len(rows) == 125  # records seen = staged + rejected
    assert (3, "malformed_csv_line", broken) in rejected
    lines = {line for line, _, _ in rejected} | {
        line for (line,) in engine.query("select source_line from staging.customers")
    }
    assert lines == set(range(2, 127))  # every physical line after the header, once


def test_crlf_utf16_and_empty_lines_are_counted_alike(tmp_path: Path) -> None:
    """No false alarm: CRLF breaks, UTF-16 and empty lines claim nothing extra."""
    rows = [ROWS["products"][0], "", ROWS["products"][1], "", "", *ROWS["products"][2:]]
    files = {
        "products": csv_bytes("products", rows, "\r\n"),
        "customers": csv_bytes("customers").decode().encode("utf-16"),
    }
    engine = DuckDBEngine(":memory:")
    loads = ingest(engine, write_base(tmp_path / "b", files), batch_id="b", run_id="r")
    assert {load.table: load.rows_loaded for load in loads}["products"] == 4
    assert engine.query("select count(*) from ops.quarantine") == [(0,)]
