"""The three aggregates, maintained from the facts a batch added or moved.

- agg_daily_sales: the days the batch touched are recomputed from their facts
  (distinct customers per day cannot be added up).
- agg_customer_metrics and agg_product_performance: per business key, the previous
  totals plus the batch's; keyed by the key's current version, so a new version moves
  the row to its new surrogate key. Product totals live in ops.product_sales_totals,
  which also holds the item count the average discount needs.
- the dashboard's monthly sums (ops.dashboard_*) and the analytics' ops.monthly_sales:
  the months the batch touched are recomputed from their facts; the orders per segment
  of the other months move with the customers whose segment changed.
- customer_segment on dim_customers (type 1, every version of the customer), by
  lifetime purchases: `VIP` from 5,000 spent, `Regular` from 2 transactions, else `New`.
"""

from __future__ import annotations

from cartwheel.engines import Engine
from cartwheel.sqlfiles import fill, sql_statements

TEMPORARY = (
    "wh_new_facts",
    "wh_days",
    "wh_months",
    "wh_month_lines",
    "wh_customer_keys",
    "wh_customer_totals",
    "wh_segments",
    "wh_order_moves",
    "wh_order_cells",
    "wh_product_batch",
    "wh_product_totals",
    "wh_product_keys",
)


def update_aggregates(engine: Engine, first_sales_key: int) -> None:
    """Bring the aggregates and segments up to date with this batch's facts (those from
    `first_sales_key` on). Keys and days go in as literals (ints) so that scans of
    fact_sales skip the row groups outside them."""
    for name in TEMPORARY:
        engine.execute(f"drop table if exists {name}")
    values = {"first_sales_key": int(first_sales_key)}
    for sql in sql_statements("warehouse/sql/aggregates.sql"):
        if "{{ first_day }}" in sql and "first_day" not in values:  # wh_days exists now
            first, last = engine.query("select min(date_key), max(date_key) from wh_days")[0]
            values["first_day"] = int(first) if first is not None else 0
            values["last_day"] = int(last) if last is not None else -1
        if "{{ first_month_day }}" in sql and "first_month_day" not in values:
            first, last = engine.query("select min(month_key), max(month_key) from wh_months")[0]
            values["first_month_day"] = int(first) * 100 + 1 if first is not None else 0
            values["last_month_day"] = int(last) * 100 + 31 if last is not None else -1
        engine.execute(fill(sql, values))
