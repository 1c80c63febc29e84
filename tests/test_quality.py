"""Quality checks, score, gate and the ledger comparison, on real generated data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cartwheel.cli import app
from cartwheel.contract import ENTITIES
from cartwheel.engines.duckdb import DuckDBEngine
from cartwheel.generate import generate
from cartwheel.ingest import ingest
from cartwheel.quality.checks import CheckResult, load_checks, quality_grade, quality_score
from cartwheel.quality.report import run_quality
from tests.conftest import run_cli

REPORT_KEYS = {
    "null_checks",
    "duplicate_checks",
    "referential_integrity",
    "range_checks",
    "data_consistency",
    "accuracy_business_rules",
}


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchall()[0][0]


@pytest.fixture(scope="module")
def defect_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`cartwheel run` over SF1 data generated with `--defect-rate 0.02`."""
    root = tmp_path_factory.mktemp("defects")
    run_cli("generate", "--defect-rate", "0.02", "--out", str(root / "raw"))
    run_cli("run", "--input", str(root / "raw"), "--data-dir", str(root / "data"))
    return root


def test_clean_data_quarantines_nothing_and_scores_100(sf1_run: Path) -> None:
    report = json.loads((sf1_run / "quality_report.json").read_text())
    assert report["quarantined_rows"] == {}
    assert report["overall_quality_score"] == 100.0
    assert report["quality_grade"] == "A"
    assert set(report["checks_performed"]) == REPORT_KEYS
    for summary in report["checks_performed"].values():
        assert summary["status"] == "passed" and summary["rows_failed"] == 0
    con = duckdb.connect(str(sf1_run / "cartwheel.duckdb"), read_only=True)
    assert scalar(con, "select count(*) from ops.quarantine") == 0
    con.close()


def test_ledger_comparison_meets_the_targets(defect_run: Path) -> None:
    report = json.loads((defect_run / "data" / "quality_report.json").read_text())
    ledger = report["ledger_comparison"]
    kinds = ledger["kinds"]
    # Every kind the generator injected is scored.
    assert len(kinds) >= 16  # cost_above_price draws no product row at SF1, seed 42
    for kind, score in kinds.items():
        assert score["scorable"] > 0, kind
        assert score["recall"] == 1.0, (kind, score)
        if not score["repairable"]:
            assert score["precision"] == 1.0, (kind, score)
    # Every quarantined row is either in the ledger or held back with its order/parent.
    assert ledger["flagged_rows_not_in_ledger"] == 0
    assert ledger["cascaded_rows"] > 0


def test_repairs_reach_production(defect_run: Path) -> None:
    con = duckdb.connect(str(defect_run / "data" / "cartwheel.duckdb"), read_only=True)
    raw = defect_run / "raw"
    # Repairable rows of the ledger are promoted, repaired.
    con.execute(f"create temp table ledger as select * from read_csv('{raw}/defect_ledger.csv')")
    padded = con.execute(
        """select count(*) from ledger l join production.customers c on c.customer_id = l.key
        where l.kind = 'padded_text' and l.entity = 'customers'"""
    ).fetchall()[0][0]
    assert padded > 0
    for table, columns in {
        "customers": ("first_name", "last_name", "email", "city"),
        "products": ("product_name", "category", "brand"),
        "transactions": ("payment_method",),
    }.items():
        for column in columns:
            assert (
                scalar(
                    con, f"select count(*) from production.{table} where {column} <> trim({column})"
                )
                == 0
            ), (table, column)
    assert scalar(con, "select count(*) from production.customers where email <> lower(email)") == 0
    assert (
        scalar(
            con,
            "select count(*) from production.customers "
            "where not regexp_full_match(phone, '[0-9]+')",
        )
        == 0
    )
    assert (
        scalar(
            con,
            "select count(*) from production.transaction_items where line_total <> "
            "round(quantity * unit_price * (100 - discount_percentage) * 0.01, 2)",
        )
        == 0
    )
    assert (
        scalar(
            con,
            """select count(*) from production.transactions t join (
            select transaction_id, sum(line_total) as s from production.transaction_items
            group by transaction_id) i using (transaction_id) where t.total_amount <> i.s""",
        )
        == 0
    )
    con.close()


def test_conservation_holds_per_batch_and_entity_on_defective_data(defect_run: Path) -> None:
    data = defect_run / "data"
    report = json.loads((data / "quality_report.json").read_text())
    rows = report["conservation"]
    assert {row["entity"] for row in rows} == set(ENTITIES)
    raw = defect_run / "raw"
    con = duckdb.connect(str(data / "cartwheel.duckdb"), read_only=True)
    for row in rows:
        assert row["balanced"], row
        assert row["rows_quarantined"] > 0 and row["duplicates_removed"] > 0, row
        # rows in = the records of the file (physical lines minus header, plus nothing lost)
        records = len((raw / f"{row['entity']}.csv").read_text().splitlines()) - 1
        assert row["rows_in"] == records, row
        # promoted rows are really in production, and the quarantine holds the rest
        held = scalar(
            con,
            f"select count(*) from ops.quarantine where entity = '{row['entity']}' "
            f"and batch_id = '{row['batch_id']}' and released_at is null",
        )
        assert held == row["rows_quarantined"]
        assert (
            scalar(con, f"select count(*) from production.{row['entity']}") == row["rows_promoted"]
        )
    # The run history holds the same equation.
    history = con.execute(
        "select entity, rows_in, rows_promoted, rows_quarantined, duplicates_removed, balanced "
        "from ops.batch_conservation order by entity"
    ).fetchall()
    assert (
        sorted(
            (
                r["entity"],
                r["rows_in"],
                r["rows_promoted"],
                r["rows_quarantined"],
                r["duplicates_removed"],
                True,
            )
            for r in rows
        )
        == history
    )
    summary = json.loads((data / "transformation_summary.json").read_text())
    assert len(summary["conservation"]) == 4 and all(
        " = promoted " in e for e in summary["conservation"]
    )
    for entity in ENTITIES:
        processed = summary["records_processed"][entity]
        assert processed["input"] == processed["output"] + processed["filtered"]
        assert sum(processed["rejected_reasons"].values()) == processed["quarantined"]
    con.close()


def test_results_keep_history_one_row_per_check_per_run(defect_run: Path) -> None:
    data = defect_run / "data"
    run_cli("run", "--input", str(defect_run / "raw"), "--data-dir", str(data))
    con = duckdb.connect(str(data / "cartwheel.duckdb"), read_only=True)
    per_run = con.execute(
        "select run_id, count(*), count(distinct check_id) from ops.quality_results group by run_id"
    ).fetchall()
    checks = len(load_checks())
    assert len(per_run) == 2
    assert all(rows == checks and distinct == checks for _, rows, distinct in per_run)
    dimensions = {
        row[0]
        for row in con.execute("select distinct dimension from ops.quality_results").fetchall()
    }
    assert dimensions == {
        "completeness",
        "uniqueness",
        "validity",
        "consistency",
        "referential_integrity",
        "accuracy",
    }
    con.close()


def test_score_responds_proportionally_to_the_defect_rate(tmp_path: Path) -> None:
    scores = {}
    for rate in (0.0, 0.02, 0.08):
        raw = tmp_path / f"raw{rate}"
        generate(raw, scale=0.2, defect_rate=rate)
        engine = DuckDBEngine(":memory:")
        ingest(engine, raw, batch_id="b")
        outcome = run_quality(engine, "run", min_score=0.0)
        scores[rate] = outcome.report["overall_quality_score"]
        engine.close()
    assert scores[0.0] == 100.0
    drop_2, drop_8 = 100 - scores[0.02], 100 - scores[0.08]
    assert 0 < drop_2 < drop_8
    assert 2.5 < drop_8 / drop_2 < 6  # four times the defects, about four times the drop


def _check(severity: str, failed: int, checked: int, error: float = 5.0) -> CheckResult:
    check = load_checks()[0]
    from dataclasses import replace

    return CheckResult(replace(check, severity=severity, error=error, warn=1.0), failed, checked)


def test_score_weights_and_grades() -> None:
    assert quality_score([_check("critical", 0, 100), _check("low", 0, 100)]) == 100.0
    # A critical check at its error threshold loses all of its 4 points out of 5.
    assert quality_score([_check("critical", 5, 100), _check("low", 0, 100)]) == 20.0
    assert quality_score([_check("critical", 0, 100), _check("low", 50, 100)]) == 80.0
    assert _check("high", 1, 100).status == "passed"
    assert _check("high", 2, 100).status == "warning"
    assert _check("high", 6, 100).status == "failed"
    assert [quality_grade(s) for s in (95, 85, 75, 65, 10)] == ["A", "B", "C", "D", "F"]


def test_thresholds_are_configurable() -> None:
    checks = {c.id: c for c in load_checks({"REF01": {"warn": 2, "error": 50, "min_failed": 3}})}
    assert (checks["REF01"].warn, checks["REF01"].error, checks["REF01"].min_failed) == (
        2.0,
        50.0,
        3,
    )
    assert (checks["REF02"].error, checks["REF02"].min_failed) == (5.0, 10)


def test_a_few_failed_rows_in_a_small_batch_only_warn() -> None:
    ref01 = next(c for c in load_checks() if c.id == "REF01")
    assert CheckResult(ref01, 9, 20).status == "warning"  # 45%, but 9 rows < min_failed 10
    assert CheckResult(ref01, 10, 20).status == "failed"
    assert CheckResult(ref01, 10, 1000).status == "warning"  # 1%: between warn and error


def _production_state(db: Path) -> tuple:
    con = duckdb.connect(str(db), read_only=True)
    state = (
        scalar(con, "select count(*) from production.transactions"),
        scalar(con, "select sum(total_amount) from production.transactions"),
        scalar(con, "select count(*) from warehouse.fact_sales"),
        scalar(con, "select sum(line_total) from warehouse.fact_sales"),
    )
    con.close()
    return state


def test_gate_stops_a_bad_batch_and_the_previous_warehouse_stays(tmp_path: Path) -> None:
    good = tmp_path / "good"
    run_cli("generate", "--scale", "0.2", "--out", str(good))
    data = tmp_path / "data"
    run_cli("run", "--input", str(good), "--data-dir", str(data))
    before = _production_state(data / "cartwheel.duckdb")
    analytics_before = (data / "analytics" / "query1_top_products.csv").read_bytes()

    # A bad batch: every transaction points at a customer nobody has heard of.
    bad = tmp_path / "bad"
    shutil.copytree(good, bad)
    text = (bad / "transactions.csv").read_text().replace(",CUST0", ",CUST9")
    (bad / "transactions.csv").write_text(text)
    result = CliRunner().invoke(app, ["run", "--input", str(bad), "--data-dir", str(data)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1
    assert "quality gate stopped the run before production" in error_lines[0]
    assert "REF01" in error_lines[0]

    assert _production_state(data / "cartwheel.duckdb") == before
    assert (data / "analytics" / "query1_top_products.csv").read_bytes() == analytics_before
    report = json.loads((data / "quality_report.json").read_text())
    assert report["gate"]["passed"] is False
    assert report["checks_performed"]["referential_integrity"]["status"] == "failed"
    con = duckdb.connect(str(data / "cartwheel.duckdb"), read_only=True)
    # The stopped run's check results are kept in the history too.
    assert scalar(con, "select count(distinct run_id) from ops.quality_results") == 2
    assert (
        scalar(
            con,
            "select status from ops.quality_results where check_id = 'REF01' "
            "order by checked_at desc limit 1",
        )
        == "failed"
    )
    con.close()


def test_minimum_score_gate(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    run_cli("generate", "--scale", "0.2", "--defect-rate", "0.02", "--out", str(raw))
    result = CliRunner().invoke(
        app,
        ["run", "--input", str(raw), "--data-dir", str(tmp_path / "data")],
        env={"CARTWHEEL_QUALITY_MIN_SCORE": "99.5"},
    )
    assert result.exit_code == 1
    assert "is below the minimum 99.50" in result.output.replace("\n", " ")
    assert not (tmp_path / "data" / "analytics" / "query1_top_products.csv").exists()
