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


PAD = "x" * 100
EXTRA = [
    f"CUST{n:04d},Pat,{PAD},pat{n}@example.com,5550000000,2023-06-01,Reno,NV,USA,26-35"
    for n in range(100, 220)
]
BROKEN = 'CUST0002,"Angus,MacDonald,angus@example.com,5559876543,2023-02-11,Austin,TX,USA,36-45'


def staged_lines(engine: DuckDBEngine) -> dict[int, str]:
    return dict(engine.query("select source_line, customer_id from staging.customers"))


@pytest.mark.parametrize(
    ("newline", "encoding"), [("\n", "utf-8"), ("\r\n", "utf-8"), ("\n", "utf-16")]
)
def test_unterminated_quote_followed_by_more_than_10_kb_quarantines_only_that_line(
    tmp_path: Path, newline: str, encoding: str
) -> None:
    """The reader swallows the ~12 kB after the quote into one record it cuts at ~10 kB;
    the lines after the broken one are read again from the file and staged, each at its
    own physical line."""
    rows = [ROWS["customers"][0], BROKEN, *ROWS["customers"][2:], *EXTRA]
    data = csv_bytes("customers", rows, newline).decode().encode(encoding)
    engine = DuckDBEngine(":memory:")
    ingest(engine, write_base(tmp_path / "b", {"customers": data}), batch_id="b", run_id="r")
    assert held(engine, "customers") == [(3, "malformed_csv_line", BROKEN)]
    lines = staged_lines(engine)
    assert len(lines) == 124
    assert lines[2] == "CUST0001" and lines[4] == "CUST0003" and lines[7] == "CUST0100"
    assert lines[126] == "CUST0219"
    assert set(lines) == set(range(2, 127)) - {3}


def test_several_unterminated_quotes_each_followed_by_more_than_10_kb(tmp_path: Path) -> None:
    """Each broken line is recovered on its own; a quote a later line closes (line 70 to
    line 71) makes one record of the two, as any CSV reader reads it."""
    rows = [ROWS["customers"][0], BROKEN, *EXTRA[:60], EXTRA[60].replace(",Pat,", ',"Pat,')]
    rows += [EXTRA[61].replace(",Reno,", ',Reno",'), *EXTRA[62:100]]
    rows += [EXTRA[100].replace("pat", '"pat'), *EXTRA[101:]]
    engine = DuckDBEngine(":memory:")
    files = {"customers": csv_bytes("customers", rows)}
    ingest(engine, write_base(tmp_path / "b", files), batch_id="b", run_id="r")
    assert [(line, reason) for line, reason, _ in held(engine, "customers")] == [
        (3, "malformed_csv_line"),
        (64, "wrong_column_count"),  # "Pat,…\n…,Reno" is one value: too few columns
        (104, "malformed_csv_line"),
    ]
    lines = staged_lines(engine)
    assert len(lines) == len(rows) - 4  # 121 records (lines 64 and 65 are one), 3 rejected
    assert lines[63] == "CUST0159" and lines[105] == "CUST0201" and lines[122] == "CUST0218"


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


def many_broken(tmp_path: Path) -> tuple[Path, set[int]]:
    """20,000 customers (line = 2 + n); every 1,000th from n = 500 has an unterminated quote."""
    rows = [
        f"CUST{n:06d},Pat,Lee,pat{n}@example.com,5550000000,2023-06-01,Reno,NV,USA,26-35"
        for n in range(20_000)
    ]
    broken = set(range(500, 20_000, 1_000))
    for n in broken:
        rows[n] = rows[n].replace(",Pat,", ',"Pat,')
    folder = write_base(tmp_path / "b", {"customers": csv_bytes("customers", rows)})
    return folder, {n + 2 for n in broken}


def test_twenty_unterminated_quotes_in_one_file(tmp_path: Path) -> None:
    folder, broken = many_broken(tmp_path)
    engine = DuckDBEngine(":memory:")
    ingest(engine, folder, batch_id="b", run_id="r")
    assert {(line, reason) for line, reason, _ in held(engine, "customers")} == {
        (line, "malformed_csv_line") for line in broken
    }
    lines = staged_lines(engine)
    assert set(lines) == set(range(2, 20_002)) - broken
    assert lines[20_001] == "CUST019999" and lines[503] == "CUST000501"


def test_past_the_recovery_limit_the_rest_is_quarantined_not_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staging, "MAX_RECOVERIES", 2)
    folder, broken = many_broken(tmp_path)
    engine = DuckDBEngine(":memory:")
    ingest(engine, folder, batch_id="b", run_id="r")
    rejected = held(engine, "customers")
    third = sorted(broken)[2]  # 2,502: the first broken line not read past
    assert [(line, reason) for line, reason, _ in rejected[:3]] == [
        (line, "malformed_csv_line") for line in sorted(broken)[:3]
    ]
    assert {reason for line, reason, _ in rejected if line > third} == {"unaccounted_line"}
    lines = set(staged_lines(engine)) | {line for line, _, _ in rejected}
    assert lines == set(range(2, 20_002))  # every line once: staged or held
    assert max(staged_lines(engine)) < third
