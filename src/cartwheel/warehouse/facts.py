"""fact_sales, appended per batch: new items only, each pointing at the customer and
product versions valid on its transaction date (point in time).

A batch that changes history (a late batch) may move version boundaries at or after its
business date; the facts of the touched keys from that date on are re-pointed, and
their profit recomputed with the cost of their new product version.
"""

from __future__ import annotations

import logging

from cartwheel.engines import Engine
from cartwheel.errors import FatalError
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
    first_entries = "queued_once" if queued_once else "first_queued"
    engine.execute(sql_text(f"warehouse/sql/{first_entries}.sql"))
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


def check_every_item_made_a_fact(engine: Engine, new_facts: int) -> None:
    """Every queued item that production holds became one of the pass's `new_facts`.

    Sales keys are numbered before the fact insert's joins (queued_items.sql), and a
    surrogate key may have gaps but no fact may be lost: an entry whose item production
    does not hold makes no fact (its key stays unused; a warning), a promoted item that
    found no transaction, date or dimension version stops the run (the pass rolls back).
    Two counts decide; the search runs only when they differ."""
    if new_facts == engine.count("wh_queued_items"):
        return
    unloaded = engine.query(sql_text("warehouse/sql/unloaded_items.sql"))
    lost = [item for item, promoted in unloaded if promoted]
    if lost:
        raise FatalError(
            f"warehouse: {_items(lost, 'promoted item')} would have no fact (no transaction, "
            f"date, or customer or product version valid on its date): {_listed(lost)}"
        )
    absent = [item for item, _ in unloaded]
    logging.getLogger("cartwheel").warning(
        "warehouse: %s not in production.transaction_items and makes no fact "
        "(its sales key stays unused): %s",
        _items(absent, "queued item") + (" is" if len(absent) == 1 else " are"),
        _listed(absent),
    )


def _items(items: list[str], noun: str) -> str:
    return f"{len(items):,} {noun}{'' if len(items) == 1 else 's'}"


def _listed(items: list[str], shown: int = 5) -> str:
    """The first `shown` item ids (the search sorts them), and how many more."""
    more = f" and {len(items) - shown:,} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more
