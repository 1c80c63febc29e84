"""The three aggregates, maintained from the facts a batch added or moved.

- agg_daily_sales: the days the batch touched are recomputed from their facts
  (distinct customers per day cannot be added up).
- agg_customer_metrics and agg_product_performance: per business key, the previous
  totals plus the batch's; keyed by the key's current version, so a new version moves
  the row to its new surrogate key. Product totals live in ops.product_sales_totals,
  which also holds the item count the average discount needs.
- the dashboard's monthly sums (ops.dashboard_*) and the analytics' ops.monthly_sales:
  a month gains the sums of its new facts (a transaction's facts come from one batch);
  a month with facts moved to another version is recomputed from its facts; the orders
  per segment of the other months move with the customers whose segment changed.
- customer_segment on dim_customers (type 1, every version of the customer), by
  lifetime purchases: `VIP` from 5,000 spent, `Regular` from 2 transactions, else `New`.
- the analytics' sums per product version, customer version (and ship-to state) and
  discount (ops.product_version_sales, ops.customer_state_sales, ops.discount_sales): a
  key gains its new facts' sums; a product or customer whose facts moved to another
  version is recomputed from its facts. The forecast's revenue per day and category
  (ops.daily_category_sales) is recomputed for the days agg_daily_sales is.
"""

from __future__ import annotations

from cartwheel.engines import Engine
from cartwheel.sqlfiles import fill, sql_statements

TEMPORARY = (
    "wh_new_facts",
    "wh_days",
    "wh_series_days",
    "wh_months",
    "wh_added_months",
    "wh_touched_months",
    "wh_month_regulars",
    "wh_month_lines",
    "wh_sales_cells",
    "wh_category_days",
    "wh_sub_category_months",
    "wh_product_months",
    "wh_monthly_sales",
    "wh_customer_keys",
    "wh_customer_totals",
    "wh_segments",
    "wh_order_moves",
    "wh_order_cells",
    "wh_product_batch",
    "wh_product_totals",
    "wh_product_keys",
    "wh_recounted_products",
    "wh_product_version_lines",
    "wh_product_version_sales",
    "wh_recounted_customers",
    "wh_customer_state_lines",
    "wh_customer_state_sales",
    "wh_discount_sales",
)


#: The analytics' kept sums (kept_sums.sql), which queries 1, 4, 6, 8 and 10 and the
#: forecast's daily series read.
KEPT_SUMS = (
    "ops.product_version_sales",
    "ops.customer_state_sales",
    "ops.discount_sales",
    "ops.daily_category_sales",
)
#: The dimensions' moved facts of a warehouse pass (facts.py), which kept_sums.sql reads.
MOVED = ("wh_dim_products_moved", "wh_dim_customers_moved")

#: Placeholders known once a temporary table exists (the first and last date key its days
#: or months span), and the query that reads them.
SPANS = (
    ("first_day", "last_day", "select min(date_key), max(date_key) from wh_days"),
    (
        "first_series_day",
        "last_series_day",
        "select min(date_key), max(date_key) from wh_series_days",
    ),
    (
        "first_month_day",
        "last_month_day",
        "select min(month_key) * 100 + 1, max(month_key) * 100 + 31 from wh_months",
    ),
    (
        "first_added_day",
        "last_added_day",
        "select min(month_key) * 100 + 1, max(month_key) * 100 + 31 from wh_added_months",
    ),
)


def update_aggregates(engine: Engine, first_sales_key: int) -> None:
    """Bring the aggregates and segments up to date with this batch's facts (those from
    `first_sales_key` on). Keys and days go in as literals (ints) so that scans of
    fact_sales skip the row groups outside them."""
    for name in TEMPORARY:
        engine.execute(f"drop table if exists {name}")
    values: dict[str, int] = {"first_sales_key": int(first_sales_key)}
    run_with_spans(engine, "warehouse/sql/aggregates.sql", values)
    update_kept_sums(engine, values)


def update_kept_sums(engine: Engine, values: dict[str, int]) -> None:
    """The analytics' kept sums (ops.*_sales) brought up to date with the facts from
    `values["first_sales_key"]` on, after aggregates.sql in the same pass."""
    run_with_spans(engine, "warehouse/sql/kept_sums.sql", values)


def run_with_spans(engine: Engine, path: str, values: dict[str, int]) -> None:
    """Run a SQL file's statements, each span's placeholders read (into `values`) once
    the temporary table they span exists."""
    for sql in sql_statements(path):
        for first_name, last_name, span in SPANS:
            if "{{ " + first_name + " }}" in sql and first_name not in values:
                first, last = engine.query(span)[0]
                # An empty table: a range that holds no day.
                values[first_name] = int(first) if first is not None else 0
                values[last_name] = int(last) if last is not None else -1
        engine.execute(fill(sql, values))
