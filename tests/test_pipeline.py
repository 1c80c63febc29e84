"""End to end on DuckDB at scale factor 1: counts, formulas, keys, reconciliation."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cartwheel.contract import RAW_COLUMNS, core_columns
from tests.conftest import run_cli

ID_PATTERNS = {
    "customers": ("customer_id", r"^CUST\d{4}$"),
    "products": ("product_id", r"^PROD\d{4}$"),
    "transactions": ("transaction_id", r"^TXN\d{5}$"),
    "transaction_items": ("item_id", r"^ITEM\d{5}$"),
}


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchall()[0][0]


def test_raw_files_have_the_contract_columns_and_classic_counts(sf1_run: Path) -> None:
    counts = {}
    for entity in RAW_COLUMNS:
        columns = core_columns(entity)
        with open(sf1_run / "raw" / f"{entity}.csv", newline="") as handle:
            rows = list(csv.reader(handle))
        assert tuple(rows[0]) == columns
        counts[entity] = len(rows) - 1
        key, pattern = ID_PATTERNS[entity]
        index = columns.index(key)
        assert all(re.match(pattern, row[index]) for row in rows[1:])
        assert len({row[index] for row in rows[1:]}) == counts[entity]
    assert counts["customers"] == 1000
    assert counts["products"] == 500
    assert counts["transactions"] == 10000
    assert 15000 <= counts["transaction_items"] <= 25000


def test_raw_amounts_follow_the_contract_formulas(sf1_run: Path) -> None:
    con = duckdb.connect()
    raw = sf1_run / "raw"
    bad_lines = scalar(
        con,
        # Exact decimal arithmetic: the contract's round(..., 2) on money, half away from zero.
        f"""select count(*) from read_csv('{raw}/transaction_items.csv', types = {{
                'unit_price': 'decimal(12,2)', 'discount_percentage': 'decimal(5,2)',
                'line_total': 'decimal(14,2)'}})
        where line_total <> round(quantity * unit_price * (100 - discount_percentage) * 0.01, 2)""",
    )
    bad_totals = scalar(
        con,
        f"""select count(*) from read_csv('{raw}/transactions.csv') t
        join (select transaction_id, sum(line_total) s
              from read_csv('{raw}/transaction_items.csv') group by 1) i using (transaction_id)
        where abs(t.total_amount - i.s) > 0.01""",
    )
    itemless = scalar(
        con,
        f"""select count(*) from read_csv('{raw}/transactions.csv') t
        where transaction_id not in (
            select transaction_id from read_csv('{raw}/transaction_items.csv'))""",
    )
    before_registration = scalar(
        con,
        f"""select count(*) from read_csv('{raw}/transactions.csv') t
        join read_csv('{raw}/customers.csv') c using (customer_id)
        where t.transaction_date < c.registration_date or t.transaction_date > current_date""",
    )
    assert (bad_lines, bad_totals, itemless, before_registration) == (0, 0, 0, 0)


def test_every_clean_row_reaches_production(sf1_db: duckdb.DuckDBPyConnection) -> None:
    for entity in RAW_COLUMNS:
        assert scalar(sf1_db, f"select count(*) from production.{entity}") == scalar(
            sf1_db, f"select count(*) from staging.{entity}"
        )


def test_no_orphans_in_any_layer(sf1_db: duckdb.DuckDBPyConnection) -> None:
    orphans = {
        "transactions without customer": """select count(*) from production.transactions t
            left join production.customers c using (customer_id) where c.customer_id is null""",
        "items without transaction": """select count(*) from production.transaction_items i
            left join production.transactions t using (transaction_id)
            where t.transaction_id is null""",
        "items without product": """select count(*) from production.transaction_items i
            left join production.products p using (product_id) where p.product_id is null""",
        "facts without date": """select count(*) from warehouse.fact_sales f
            left join warehouse.dim_date d using (date_key) where d.date_key is null""",
        "facts without customer": """select count(*) from warehouse.fact_sales f
            left join warehouse.dim_customers c using (customer_key)
            where c.customer_key is null""",
        "facts without product": """select count(*) from warehouse.fact_sales f
            left join warehouse.dim_products p using (product_key) where p.product_key is null""",
        "facts without payment method": """select count(*) from warehouse.fact_sales f
            left join warehouse.dim_payment_method m using (payment_method_key)
            where m.payment_method_key is null""",
    }
    assert {name: scalar(sf1_db, sql) for name, sql in orphans.items()} == dict.fromkeys(orphans, 0)


def test_production_cleansing_and_enrichment(sf1_db: duckdb.DuckDBPyConnection) -> None:
    assert (
        scalar(sf1_db, "select count(*) from production.customers where email <> lower(email)") == 0
    )
    assert (
        scalar(
            sf1_db,
            "select count(*) from production.customers where regexp_matches(phone, '[^0-9]')",
        )
        == 0
    )
    assert (
        scalar(
            sf1_db,
            """select count(*) from production.products
            where profit_margin <> round((price - cost) / price * 100, 2)
               or price_category <> case when price < 50 then 'Budget'
                                         when price < 200 then 'Mid-range' else 'Premium' end""",
        )
        == 0
    )
    assert scalar(sf1_db, "select count(distinct price_category) from production.products") == 3


def test_revenue_reconciles_across_layers(sf1_db: duckdb.DuckDBPyConnection) -> None:
    production = scalar(sf1_db, "select sum(line_total) from production.transaction_items")
    facts = scalar(sf1_db, "select sum(line_total) from warehouse.fact_sales")
    daily = scalar(sf1_db, "select sum(total_revenue) from warehouse.agg_daily_sales")
    totals = scalar(sf1_db, "select sum(total_amount) from production.transactions")
    assert production == facts == daily == totals
    assert scalar(sf1_db, "select count(*) from warehouse.fact_sales") == scalar(
        sf1_db, "select count(*) from production.transaction_items"
    )
    profit = scalar(sf1_db, "select sum(total_profit) from warehouse.agg_daily_sales")
    assert profit == scalar(sf1_db, "select sum(profit) from warehouse.fact_sales")


def test_date_key_is_the_transaction_date(sf1_db: duckdb.DuckDBPyConnection) -> None:
    mismatches = scalar(
        sf1_db,
        """select count(*) from warehouse.fact_sales f
        join production.transactions t using (transaction_id)
        where f.date_key <> cast(strftime(t.transaction_date, '%Y%m%d') as integer)""",
    )
    assert mismatches == 0
    gaps = scalar(
        sf1_db,
        """select max(full_date) - min(full_date) + 1 - count(*) from warehouse.dim_date""",
    )
    assert gaps == 0


def test_warehouse_tables_have_the_spec_columns(sf1_db: duckdb.DuckDBPyConnection) -> None:
    expected = {
        "dim_date": "date_key full_date year quarter month day month_name day_name "
        "week_of_year is_weekend is_holiday",
        "dim_customers": "customer_key customer_id full_name email city state country "
        "age_group customer_segment registration_date effective_date end_date is_current",
        "dim_products": "product_key product_id product_name category sub_category brand "
        "price cost price_range effective_date end_date is_current",
        "dim_payment_method": "payment_method_key payment_method_name payment_type",
        "agg_daily_sales": "date_key total_transactions total_revenue total_profit "
        "unique_customers",
        "agg_product_performance": "product_key total_quantity_sold total_revenue "
        "total_profit avg_discount_percentage",
        "agg_customer_metrics": "customer_key total_transactions total_spent "
        "avg_order_value last_purchase_date",
    }
    for table, columns in expected.items():
        actual = [row[0] for row in sf1_db.execute(f"describe warehouse.{table}").fetchall()]
        assert actual == columns.split(), table
    fact = [row[0] for row in sf1_db.execute("describe warehouse.fact_sales").fetchall()]
    spec_fact = (
        "sales_key date_key customer_key product_key payment_method_key transaction_id "
        "quantity unit_price discount_amount line_total profit created_at"
    ).split()
    assert [c for c in fact if c in spec_fact] == spec_fact


def test_payment_types(sf1_db: duckdb.DuckDBPyConnection) -> None:
    rows = dict(
        sf1_db.execute(
            "select payment_method_name, payment_type from warehouse.dim_payment_method"
        ).fetchall()
    )
    assert rows == {
        "Cash on Delivery": "Offline",
        "Credit Card": "Online",
        "Debit Card": "Online",
        "Net Banking": "Online",
        "UPI": "Online",
    }


def test_reports_have_the_spec_keys(sf1_run: Path) -> None:
    def keys(name: str) -> set[str]:
        return set(json.loads((sf1_run / name).read_text()))

    assert {"generated_at", "record_counts", "date_range", "data_quality"} <= keys(
        "generation_metadata.json"
    )
    ingestion = json.loads((sf1_run / "ingestion_summary.json").read_text())
    assert {"ingestion_timestamp", "tables_loaded", "total_execution_time_seconds"} <= set(
        ingestion
    )
    assert ingestion["tables_loaded"]["customers"]["rows_loaded"] == 1000
    assert {"rows_loaded", "status", "error_message"} <= set(
        ingestion["tables_loaded"]["transaction_items"]
    )
    transformation = json.loads((sf1_run / "transformation_summary.json").read_text())
    assert {"transformation_timestamp", "records_processed", "transformations_applied"} <= set(
        transformation
    )
    items = transformation["records_processed"]["transaction_items"]
    assert {"input", "output", "filtered", "rejected_reasons"} <= set(items)
    execution = json.loads((sf1_run / "pipeline_execution_report.json").read_text())
    assert {
        "pipeline_execution_id",
        "start_time",
        "end_time",
        "total_duration_seconds",
        "status",
        "steps_executed",
        "data_quality_summary",
        "errors",
        "warnings",
    } <= set(execution)
    assert execution["status"] == "success"
    for step in ("generate", "ingest", "quality", "production", "warehouse", "analytics"):
        assert execution["steps_executed"][step]["status"] == "success"
        assert {"duration_seconds", "records_processed", "error_message", "retry_attempts"} <= set(
            execution["steps_executed"][step]
        )


def test_second_run_over_the_same_input_changes_nothing(tmp_path: Path, sf1_run: Path) -> None:
    shutil.copytree(sf1_run / "raw", tmp_path / "input")
    data_dir = tmp_path / "data"
    run_cli("run", "--input", str(tmp_path / "input"), "--data-dir", str(data_dir))
    first = _fingerprint(data_dir)
    run_cli("run", "--input", str(tmp_path / "input"), "--data-dir", str(data_dir))
    assert _fingerprint(data_dir) == first


def _fingerprint(data_dir: Path) -> dict[str, object]:
    """Row count and an order-independent hash of every table, timestamps left out."""
    con = duckdb.connect(str(data_dir / "cartwheel.duckdb"), read_only=True)
    prints: dict[str, object] = {}
    tables = con.execute(
        """select table_schema, table_name from information_schema.tables
        where table_schema in ('production', 'warehouse') order by 1, 2"""
    ).fetchall()
    for schema, table in tables:
        columns = [
            row[0]
            for row in con.execute(f"describe {schema}.{table}").fetchall()
            if row[1] != "TIMESTAMP" and not row[1].startswith("TIMESTAMP")
        ]
        prints[f"{schema}.{table}"] = con.execute(
            f"select count(*), sum(hash({', '.join(columns)})) from {schema}.{table}"
        ).fetchall()
    con.close()
    for csv_file in sorted((data_dir / "analytics").glob("*.csv")):
        prints[csv_file.name] = csv_file.read_bytes()
    return prints


def test_run_from_a_users_own_files(tmp_path: Path, sf1_run: Path) -> None:
    """`--input` with the four contract files builds the same warehouse as the generated run."""
    shutil.copytree(sf1_run / "raw", tmp_path / "shop_export")
    data_dir = tmp_path / "data"
    run_cli("run", "--input", str(tmp_path / "shop_export"), "--data-dir", str(data_dir))
    for name in ("query1_top_products.csv", "query4_category_performance.csv"):
        assert (data_dir / "analytics" / name).read_bytes() == (
            sf1_run / "analytics" / name
        ).read_bytes()
    assert not (data_dir / "raw").exists()


def test_rebuild_starts_from_scratch(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    run_cli("run", "--scale", "0.1", "--data-dir", str(data_dir))
    run_cli("run", "--scale", "0.1", "--seed", "7", "--rebuild", "--data-dir", str(data_dir))
    con = duckdb.connect(str(data_dir / "cartwheel.duckdb"), read_only=True)
    customers = scalar(con, "select count(*) from production.customers")
    con.close()
    assert customers == 100


def test_missing_input_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "export").mkdir()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cartwheel.cli",
            "run",
            "--input",
            str(tmp_path / "export"),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "missing raw file" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("seed", [1, 42])
def test_generator_is_deterministic(tmp_path: Path, seed: int) -> None:
    run_cli("generate", "--seed", str(seed), "--out", str(tmp_path / "a"))
    run_cli("generate", "--seed", str(seed), "--out", str(tmp_path / "b"))
    for entity in RAW_COLUMNS:
        assert (tmp_path / "a" / f"{entity}.csv").read_bytes() == (
            tmp_path / "b" / f"{entity}.csv"
        ).read_bytes()
