"""Warehouse invariants as reusable checks, and hand-made daily batches."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from cartwheel.contract import RAW_COLUMNS, core_columns


def write_batch(root: Path, day: str, rows: dict[str, list[tuple]]) -> Path:
    """A daily batch folder ROOT/DAY with the four raw files (missing entities empty)."""
    folder = root / day
    folder.mkdir(parents=True, exist_ok=True)
    for entity in RAW_COLUMNS:
        with (folder / f"{entity}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(core_columns(entity))
            writer.writerows(rows.get(entity, []))
    return folder


def connect(data_dir: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(data_dir / "cartwheel.duckdb"), read_only=True)


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


DIMENSIONS = (
    ("dim_customers", "customer_id", "customer_key"),
    ("dim_products", "product_id", "product_key"),
)


def invariant_violations(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Counts of rows breaking each invariant; all zero on a healthy warehouse."""
    found: dict[str, int] = {}
    for table, key, surrogate in DIMENSIONS:
        found[f"{table}: keys without exactly one current row"] = rows(
            con,
            f"""select count(*) from (
                select {key} from warehouse.{table} group by {key}
                having sum(case when is_current then 1 else 0 end) <> 1)""",
        )[0][0]
        found[f"{table}: overlaps or gaps between versions"] = rows(
            con,
            f"""select count(*) from (
                select end_date, is_current, effective_date,
                    lead(effective_date) over (partition by {key} order by effective_date) as next
                from warehouse.{table})
            where end_date is distinct from next
                or (end_date is null) <> is_current
                or end_date <= effective_date""",
        )[0][0]
        found[f"{table}: duplicate surrogate keys"] = rows(
            con,
            f"select count(*) - count(distinct {surrogate}) from warehouse.{table}",
        )[0][0]
        found[f"fact_sales: date outside its {table} version"] = rows(
            con,
            f"""select count(*) from warehouse.fact_sales f
            join warehouse.dim_date d using (date_key)
            left join warehouse.{table} v on f.{surrogate} = v.{surrogate}
            where v.{surrogate} is null or d.full_date < v.effective_date
                or (v.end_date is not null and d.full_date >= v.end_date)""",
        )[0][0]
    found["fact_sales: profit not with its product version's cost"] = rows(
        con,
        """select count(*) from warehouse.fact_sales f
        join warehouse.dim_products p using (product_key)
        where f.profit <> f.line_total - p.cost * f.quantity""",
    )[0][0]
    found["fact rows <> production items"] = abs(
        rows(
            con,
            """select (select count(*) from warehouse.fact_sales)
                - (select count(*) from production.transaction_items)""",
        )[0][0]
    )
    revenue = rows(
        con,
        """select (select sum(line_total) from production.transaction_items),
            (select sum(line_total) from warehouse.fact_sales),
            (select sum(total_revenue) from warehouse.agg_daily_sales),
            (select sum(total_revenue) from warehouse.agg_product_performance),
            (select sum(total_spent) from warehouse.agg_customer_metrics)""",
    )[0]
    found["revenue differs between layers"] = len(set(revenue)) - 1
    profit = rows(
        con,
        """select (select sum(profit) from warehouse.fact_sales),
            (select sum(total_profit) from warehouse.agg_daily_sales),
            (select sum(total_profit) from warehouse.agg_product_performance)""",
    )[0]
    found["profit differs between facts and aggregates"] = len(set(profit)) - 1
    found["aggregates not keyed by the current version"] = (
        rows(
            con,
            """select count(*) from warehouse.agg_customer_metrics a
        left join warehouse.dim_customers c using (customer_key)
        where c.customer_key is null or not c.is_current""",
        )[0][0]
        + rows(
            con,
            """select count(*) from warehouse.agg_product_performance a
        left join warehouse.dim_products p using (product_key)
        where p.product_key is null or not p.is_current""",
        )[0][0]
    )
    return found


def assert_invariants(data_dir: Path) -> None:
    con = connect(data_dir)
    try:
        violations = invariant_violations(con)
    finally:
        con.close()
    assert violations == dict.fromkeys(violations, 0)


def snapshot(data_dir: Path) -> dict[str, list[tuple]]:
    """The warehouse's content by business keys and dates (surrogate keys left out, as
    they depend on the order batches arrived in), sorted."""
    con = connect(data_dir)
    queries = {
        "dim_customers": """select customer_id, full_name, email, city, state, country,
            age_group, customer_segment, registration_date, effective_date, end_date,
            is_current from warehouse.dim_customers""",
        "dim_products": """select product_id, product_name, category, sub_category, brand,
            price, cost, price_range, effective_date, end_date, is_current
            from warehouse.dim_products""",
        "fact_sales": """select f.item_id, f.date_key, c.customer_id, c.effective_date,
            p.product_id, p.effective_date, m.payment_method_name, f.transaction_id,
            f.quantity, f.unit_price, f.discount_amount, f.line_total, f.profit
            from warehouse.fact_sales f
            join warehouse.dim_customers c using (customer_key)
            join warehouse.dim_products p using (product_key)
            join warehouse.dim_payment_method m using (payment_method_key)""",
        "agg_daily_sales": "select * from warehouse.agg_daily_sales",
        "agg_product_performance": """select p.product_id, a.total_quantity_sold,
            a.total_revenue, a.total_profit, a.avg_discount_percentage
            from warehouse.agg_product_performance a join warehouse.dim_products p
            using (product_key)""",
        "agg_customer_metrics": """select c.customer_id, a.total_transactions, a.total_spent,
            a.avg_order_value, a.last_purchase_date
            from warehouse.agg_customer_metrics a join warehouse.dim_customers c
            using (customer_key)""",
        "production.customers": """select * exclude (created_at, updated_at)
            from production.customers""",
        "production.products": """select * exclude (created_at, updated_at)
            from production.products""",
    }
    try:
        return {name: sorted(rows(con, sql), key=repr) for name, sql in queries.items()}
    finally:
        con.close()
