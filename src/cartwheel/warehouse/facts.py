"""fact_sales, appended per batch: new items only, each pointing at the customer and
product versions valid on its transaction date (point in time).

A batch that changes history (a late batch) may move version boundaries at or after its
business date; the facts of the touched keys from that date on are re-pointed, and
their profit recomputed with the cost of their new product version.
"""

from __future__ import annotations

from cartwheel.engines import Engine
from cartwheel.sqlfiles import sql_text
from cartwheel.warehouse.dimensions import (
    CUSTOMERS,
    PRODUCTS,
    Dimension,
    backdate_first_versions,
)


def _moved_sql(dim: Dimension, date_key: int) -> str:
    """Facts of the touched keys on or after the batch date, with the version now valid.

    The date is a literal (an int), so the scan skips the row groups of older facts."""
    k = dim.business_key
    profit = (
        "candidates.line_total - versions.cost * candidates.quantity"
        if dim is PRODUCTS
        else "candidates.profit"
    )
    return f"""
        create temporary table wh_{dim.short}_moved as
        with candidates as (
            select facts.sales_key, facts.date_key, facts.{dim.key} as old_key,
                facts.quantity, facts.line_total, facts.profit, old.{k}
            from warehouse.fact_sales as facts
            inner join wh_{dim.short}_old as old on facts.{dim.key} = old.{dim.key}
            where facts.date_key >= {int(date_key)}
        )

        select
            candidates.sales_key,
            candidates.date_key,
            candidates.{k},
            versions.{dim.key} as new_key,
            candidates.profit as old_profit,
            {profit} as new_profit
        from candidates
        inner join warehouse.dim_date as dates on candidates.date_key = dates.date_key
        inner join {dim.table} as versions
            on candidates.{k} = versions.{k}
            and dates.full_date >= versions.effective_date
            and (versions.end_date is null or dates.full_date < versions.end_date)
        where versions.{dim.key} <> candidates.old_key
            or {profit} is distinct from candidates.profit
    """


def repoint_facts(engine: Engine, dim: Dimension, date_key: int) -> None:
    """Point facts whose version changed at the version valid on their date now."""
    engine.execute(f"drop table if exists wh_{dim.short}_moved")
    engine.execute(_moved_sql(dim, date_key))
    profit = ", profit = moved.new_profit" if dim is PRODUCTS else ""
    engine.execute(f"""
        update warehouse.fact_sales as facts
        set {dim.key} = moved.new_key{profit}
        from wh_{dim.short}_moved as moved
        where facts.sales_key = moved.sales_key
        """)


def number_queued_items(engine: Engine, queued_once: bool) -> None:
    """wh_queued_items: the queued items that are not facts yet, with their sales keys.
    `queued_once`: no item id is queued twice, so each entry is the item's first and the
    search for first entries (a group-by over the backlog) is skipped."""
    engine.execute("drop view if exists wh_first_queued")
    if queued_once:
        engine.execute(
            "create temporary view wh_first_queued as "
            "select item_id, batch_id, discount_percentage from ops.warehouse_backlog"
        )
    else:
        engine.execute(sql_text("warehouse/sql/first_queued.sql"))
    engine.execute("drop table if exists wh_queued_items")
    engine.execute(sql_text("warehouse/sql/queued_items.sql"))
    engine.execute("drop view wh_first_queued")


def insert_new_facts(engine: Engine, queued_once: bool) -> None:
    """Append this batch's new items as facts (after stretching first versions back to
    cover any sale that precedes them); their keys and discounts stay in wh_queued_items
    for the aggregates. `queued_once`: as for `number_queued_items`."""
    engine.execute("drop table if exists wh_batch_sales")
    engine.execute(sql_text("warehouse/sql/batch_sales.sql"))
    for dim, date_column in ((CUSTOMERS, "customer_id"), (PRODUCTS, "product_id")):
        first_sales = f"wh_{dim.short}_first_sales"
        engine.execute(f"drop table if exists {first_sales}")
        engine.execute(
            f"create temporary table {first_sales} as "
            f"select {date_column}, min(transaction_date) as first_date "
            f"from wh_batch_sales group by {date_column}"
        )
        backdate_first_versions(engine, dim, first_sales)
    number_queued_items(engine, queued_once)
    engine.execute("drop view if exists wh_new_items")
    engine.execute(sql_text("warehouse/sql/new_items.sql"))
    engine.execute(sql_text("warehouse/sql/insert_facts.sql"))
    engine.execute("drop view wh_new_items")
