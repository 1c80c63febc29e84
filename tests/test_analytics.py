"""The ten analytics files: exact names and headers, and numbers that agree with the warehouse."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import duckdb

HEADERS = {
    "query1_top_products.csv": "product_name,category,total_revenue,units_sold,avg_price",
    "query2_monthly_trend.csv": "year_month,total_revenue,total_transactions,"
    "average_order_value,unique_customers",
    "query3_customer_segmentation.csv": "spending_segment,customer_count,total_revenue,"
    "avg_transaction_value",
    "query4_category_performance.csv": "category,total_revenue,total_profit,profit_margin_pct,"
    "units_sold",
    "query5_payment_distribution.csv": "payment_method,transaction_count,total_revenue,"
    "pct_of_transactions,pct_of_revenue",
    "query6_geographic_analysis.csv": "state,total_revenue,total_customers,"
    "avg_revenue_per_customer",
    "query7_customer_lifetime_value.csv": "customer_id,full_name,total_spent,transaction_count,"
    "days_since_registration,avg_order_value",
    "query8_product_profitability.csv": "product_name,category,total_profit,profit_margin,"
    "revenue,units_sold",
    "query9_day_of_week_pattern.csv": "day_name,avg_daily_revenue,avg_daily_transactions,"
    "total_revenue",
    "query10_discount_impact.csv": "discount_range,avg_discount_pct,total_quantity_sold,"
    "total_revenue,avg_line_total",
}


def read(run: Path, name: str) -> list[dict[str, str]]:
    with open(run / "analytics" / name, newline="") as handle:
        return list(csv.DictReader(handle))


def total(rows: list[dict[str, str]], column: str) -> Decimal:
    return sum((Decimal(row[column]) for row in rows), Decimal(0))


def warehouse_value(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchall()[0][0]


def test_exact_files_and_headers_and_none_empty(sf1_run: Path) -> None:
    folder = sf1_run / "analytics"
    assert {p.name for p in folder.glob("query*.csv")} == set(HEADERS)
    for name, header in HEADERS.items():
        lines = (folder / name).read_text().splitlines()
        assert lines[0] == header, name
        assert len(lines) > 1, name


def test_summary_lists_every_query(sf1_run: Path) -> None:
    summary = json.loads((sf1_run / "analytics" / "analytics_summary.json").read_text())
    assert set(summary) >= {
        "generation_timestamp",
        "queries_executed",
        "query_results",
        "total_execution_time_seconds",
    }
    assert summary["queries_executed"] == 10
    for name, header in HEADERS.items():
        result = summary["query_results"][name.removesuffix(".csv")]
        assert result["columns"] == header.split(",")
        assert result["rows"] == len(read(sf1_run, name))
        assert result["execution_time_ms"] >= 0


def test_breakdowns_add_up_to_total_revenue(sf1_run: Path, sf1_db) -> None:
    revenue = warehouse_value(sf1_db, "select sum(line_total) from warehouse.fact_sales")
    transactions = warehouse_value(
        sf1_db, "select count(distinct transaction_id) from warehouse.fact_sales"
    )
    buyers = warehouse_value(sf1_db, "select count(*) from warehouse.agg_customer_metrics")
    for name, column in [
        ("query2_monthly_trend.csv", "total_revenue"),
        ("query3_customer_segmentation.csv", "total_revenue"),
        ("query4_category_performance.csv", "total_revenue"),
        ("query5_payment_distribution.csv", "total_revenue"),
        ("query6_geographic_analysis.csv", "total_revenue"),
        ("query7_customer_lifetime_value.csv", "total_spent"),
        ("query8_product_profitability.csv", "revenue"),
        ("query9_day_of_week_pattern.csv", "total_revenue"),
        ("query10_discount_impact.csv", "total_revenue"),
    ]:
        assert total(read(sf1_run, name), column) == revenue, name
    assert total(read(sf1_run, "query2_monthly_trend.csv"), "total_transactions") == transactions
    assert total(read(sf1_run, "query5_payment_distribution.csv"), "transaction_count") == (
        transactions
    )
    assert total(read(sf1_run, "query3_customer_segmentation.csv"), "customer_count") == buyers
    assert len(read(sf1_run, "query7_customer_lifetime_value.csv")) == buyers


def test_average_order_value_is_per_transaction(sf1_run: Path) -> None:
    for row in read(sf1_run, "query2_monthly_trend.csv"):
        expected = Decimal(row["total_revenue"]) / int(row["total_transactions"])
        assert abs(Decimal(row["average_order_value"]) - expected) <= Decimal("0.005")


def test_buckets_are_the_spec_buckets(sf1_run: Path) -> None:
    assert [r["spending_segment"] for r in read(sf1_run, "query3_customer_segmentation.csv")] == [
        "$0-$1,000",
        "$1,000-$5,000",
        "$5,000-$10,000",
        "$10,000+",
    ]
    assert [r["discount_range"] for r in read(sf1_run, "query10_discount_impact.csv")] == [
        "0%",
        "1-10%",
        "11-25%",
        "26-50%",
        "50%+",
    ]
    assert [r["day_name"] for r in read(sf1_run, "query9_day_of_week_pattern.csv")] == [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
    assert {r["payment_method"] for r in read(sf1_run, "query5_payment_distribution.csv")} == {
        "Credit Card",
        "Debit Card",
        "UPI",
        "Cash on Delivery",
        "Net Banking",
    }
    assert len(read(sf1_run, "query4_category_performance.csv")) == 6


def test_top_products_are_the_ten_largest(sf1_run: Path, sf1_db) -> None:
    top = read(sf1_run, "query1_top_products.csv")
    assert len(top) == 10
    revenues = [Decimal(r["total_revenue"]) for r in top]
    assert revenues == sorted(revenues, reverse=True)
    best = warehouse_value(
        sf1_db, "select max(total_revenue) from warehouse.agg_product_performance"
    )
    assert revenues[0] == best


def test_shares_add_up_to_one_hundred_percent(sf1_run: Path) -> None:
    rows = read(sf1_run, "query5_payment_distribution.csv")
    assert abs(total(rows, "pct_of_transactions") - 100) <= Decimal("0.05")
    assert abs(total(rows, "pct_of_revenue") - 100) <= Decimal("0.05")


def test_weekday_averages_are_per_date(sf1_run: Path, sf1_db) -> None:
    """avg_daily_revenue = weekday revenue / number of such dates that had sales."""
    rows = {r["day_name"]: r for r in read(sf1_run, "query9_day_of_week_pattern.csv")}
    dates = dict(
        sf1_db.execute(
            """select d.day_name, count(distinct d.full_date) from warehouse.fact_sales f
            join warehouse.dim_date d using (date_key) group by 1"""
        ).fetchall()
    )
    for day, row in rows.items():
        expected = Decimal(row["total_revenue"]) / dates[day]
        assert abs(Decimal(row["avg_daily_revenue"]) - expected) <= Decimal("0.005")
