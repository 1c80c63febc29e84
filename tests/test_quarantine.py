"""`cartwheel quarantine`, and rows re-processed once what they were waiting for arrives."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from cartwheel.cli import app
from tests.conftest import run_cli
from tests.test_ingest_malformed import CLEAN, HEADERS, write_batch

LATE = "CUST0005,Eve,Stone,eve.stone5@example.com,5557770000,2023-05-05,Reno,NV,USA,46-60"


def rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def first_batch(folder: Path) -> Path:
    """The clean batch, but TXN00004 belongs to CUST0005, who is not in it."""
    lines = {e: list(r) for e, r in CLEAN.items()}
    lines["transactions"][3] = lines["transactions"][3].replace("CUST0001", "CUST0005")
    return write_batch(folder, lines)


def test_quarantine_command_shows_counts_reasons_and_samples(tmp_path: Path) -> None:
    data = tmp_path / "data"
    lines = {e: list(r) for e, r in CLEAN.items()}
    lines["customers"][3] = lines["customers"][3].replace("@example.com", " at example.com")
    lines["products"].append("PROD0004,Broken,Books,x,1.00")
    run_cli("run", "--input", str(write_batch(tmp_path / "b1", lines)), "--data-dir", str(data))
    output = run_cli("quarantine", "--data-dir", str(data)).output
    assert "invalid_email" in output and "wrong_column_count" in output
    assert "customers.csv:5" in output and "products.csv:5" in output
    assert "dora.lind4 at example.com" in output  # the raw text of the row
    assert "PROD0004,Broken,Books,x,1.00" in output
    only = run_cli("quarantine", "--data-dir", str(data), "--entity", "products").output
    assert "invalid_email" not in only and "wrong_column_count" in only


def test_quarantine_command_without_a_warehouse_fails_cleanly(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["quarantine", "--data-dir", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "no warehouse yet" in result.output and "Traceback" not in result.output


def test_late_customer_releases_the_orphaned_order_on_the_next_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = data / "cartwheel.duckdb"
    # One orphan in four transactions is 25%, but one row (fewer than REF01's min_failed)
    # only warns: the run goes on and holds the order back.
    run_cli("run", "--input", str(first_batch(tmp_path / "b1")), "--data-dir", str(data))
    report = json.loads((data / "quality_report.json").read_text())
    ref01 = report["checks_performed"]["referential_integrity"]["details"][0]
    assert (ref01["check_id"], ref01["status"], ref01["rows_failed"]) == ("REF01", "warning", 1)
    held = rows(
        db,
        "select entity, source_line, reason from ops.quarantine "
        "where released_at is null order by entity",
    )
    assert held == [
        ("transaction_items", 6, "parent_transaction_rejected"),
        ("transactions", 5, "orphan_customer_id"),
    ]
    assert rows(db, "select count(*) from production.transactions") == [(3,)]

    # The next batch brings the customer (and nothing else).
    second = tmp_path / "b2"
    write_batch(second, {entity: [] for entity in CLEAN})
    (second / "customers.csv").write_text(HEADERS["customers"] + "\n" + LATE + "\n")
    run_cli("run", "--input", str(second), "--data-dir", str(data))

    assert rows(db, "select count(*) from ops.quarantine where released_at is null") == [(0,)]
    released = rows(db, "select entity, batch_id, source_line from ops.quarantine order by entity")
    assert released == [("transaction_items", "b1", 6), ("transactions", "b1", 5)]
    assert rows(
        db,
        "select customer_id, total_amount from production.transactions "
        "where transaction_id = 'TXN00004'",
    ) == [("CUST0005", 70)]
    assert rows(db, "select count(*) from production.transaction_items") == [(5,)]
    report = json.loads((data / "quality_report.json").read_text())
    assert report["reprocessed_from_earlier_batches"] == {
        "transactions": {"examined": 1, "released": 1},
        "transaction_items": {"examined": 1, "released": 1},
    }
    # The second batch's own equation: one customer in, one promoted.
    customers = next(r for r in report["conservation"] if r["entity"] == "customers")
    assert (customers["rows_in"], customers["rows_promoted"], customers["balanced"]) == (1, 1, True)
    output = run_cli("quarantine", "--data-dir", str(data)).output
    assert "2 row(s) released" in output
