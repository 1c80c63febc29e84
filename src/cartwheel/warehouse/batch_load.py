"""Load what production promoted into the warehouse: small dimensions rebuilt, SCD2
dimensions, facts and aggregates maintained incrementally (work in proportion to the
batches loaded)."""

from __future__ import annotations

import logging
import time

from cartwheel import progress
from cartwheel.engines import Engine
from cartwheel.ingest.batches import business_date
from cartwheel.models import load_models, render
from cartwheel.schema_upgrade import drop_stale_not_null
from cartwheel.sqlfiles import sql_statements, sql_text, table_ddl
from cartwheel.warehouse.aggregates import (
    KEPT_SUMS,
    MOVED,
    TEMPORARY,
    update_aggregates,
    update_kept_sums,
)
from cartwheel.warehouse.dimensions import DIMENSIONS, update_dimension
from cartwheel.warehouse.facts import (
    check_every_item_made_a_fact,
    insert_new_facts,
    repoint_facts,
)

TABLES = (
    "warehouse.dim_date",
    "warehouse.dim_payment_method",
    "warehouse.dim_customers",
    "warehouse.dim_products",
    "warehouse.fact_sales",
    "warehouse.agg_daily_sales",
    "warehouse.agg_product_performance",
    "warehouse.agg_customer_metrics",
)


def create_warehouse_tables(engine: Engine) -> None:
    for statement in sql_statements("warehouse/ddl.sql"):
        engine.execute(statement)
    engine.execute(table_ddl("production/ddl.sql", "ops.warehouse_backlog"))
    drop_stale_not_null(engine, "warehouse/ddl.sql")


def build_warehouse(engine: Engine) -> dict[str, int]:
    """Bring the warehouse up to date with the batches in `ops.run_batches` (one, or
    several consecutive daily ones: the same tables as one pass each); rows per table."""
    engine.create_schemas()
    create_warehouse_tables(engine)
    day = business_date(engine)  # a snapshot's date is resolved and stored
    first_day, batches = engine.query(
        "select min(business_date), count(*) from ops.processed_batches "
        "where batch_id in (select batch_id from ops.run_batches)"
    )[0]
    with engine.transaction():
        # Small dimensions with natural or fixed keys: rebuilt from their models.
        for model in load_models("warehouse"):
            engine.build_table(model.qualified_name, render(model, engine))
        # Facts may move to another version from the first batch's date on.
        date_key = int((first_day or day).strftime("%Y%m%d"))
        first_sales_key = int(
            engine.scalar("select coalesce(max(sales_key), 0) + 1 from warehouse.fact_sales")
        )
        engine.execute("drop table if exists wh_batch")
        engine.execute(
            "create temporary table wh_batch as select cast(? as bigint) as first_sales_key",
            [first_sales_key],
        )
        for dim in DIMENSIONS:
            began = time.perf_counter()
            update_dimension(engine, dim, grouped=batches > 1)
            repoint_facts(engine, dim, date_key)
            _report(engine, dim.table, began)
        began, facts_before = time.perf_counter(), engine.count("warehouse.fact_sales")
        queued_once = queue_missing_items(engine, facts_before)
        insert_new_facts(engine, queued_once)
        new_facts = _report(engine, "warehouse.fact_sales", began) - facts_before
        check_every_item_made_a_fact(engine, new_facts)
        began = time.perf_counter()
        update_aggregates(engine, first_sales_key)
        engine.execute("delete from ops.warehouse_backlog")
        # The aggregates fold in the batch's new facts.
        progress.report("warehouse", "aggregates", new_facts, time.perf_counter() - began)
    return table_rows(engine)


def queue_missing_items(engine: Engine, facts: int) -> bool:
    """Queue the production items that are neither facts nor queued, if there are any:
    fact rows must equal promoted items whatever happened to the queue. Two counts decide
    (the anti-join runs only when more items lack a fact than the queue holds). Whether
    every queued item is queued once (the items queued here are too)."""
    items, entries, queued = engine.query(
        "select (select count(*) from production.transaction_items), "
        "(select count(*) from ops.warehouse_backlog), "
        "(select count(distinct item_id) from ops.warehouse_backlog)"
    )[0]
    if items - facts > queued:
        before = engine.count("ops.warehouse_backlog")
        engine.execute(sql_text("warehouse/sql/queue_missing_items.sql"))
        logging.getLogger("cartwheel").warning(
            "warehouse: queued %d production items that had neither a fact nor a queue entry",
            engine.count("ops.warehouse_backlog") - before,
        )
    return entries == queued


def _report(engine: Engine, table: str, began: float) -> int:
    """A warehouse table brought up to date: its rows and rate as the step's progress."""
    rows = engine.count(table)
    progress.report("warehouse", table.split(".")[1], rows, time.perf_counter() - began)
    return rows


def table_rows(engine: Engine) -> dict[str, int]:
    """Rows per warehouse table, in one query (eight count queries cost 8 statements)."""
    counts = " union all ".join(
        f"select {number} as table_number, count(*) as n from {table}"
        for number, table in enumerate(TABLES)
    )
    rows = dict(engine.query(counts))
    return {table: int(rows[number]) for number, table in enumerate(TABLES)}


def fill_missing_kept_sums(engine: Engine) -> bool:
    """Fill the analytics' kept sums from every fact where a warehouse has facts but not
    them (an older cartwheel built it and no batch came since, or the pass that made the
    tables failed): the queries would read nothing or fail. Whether it filled them."""
    existing = engine.existing_tables(("warehouse.fact_sales", *KEPT_SUMS))
    if "warehouse.fact_sales" not in existing:
        return False
    present = existing.issuperset(KEPT_SUMS)
    if present and not engine.scalar(
        "select exists (select 1 from warehouse.fact_sales) and ("
        + " or ".join(f"not exists (select 1 from {table})" for table in KEPT_SUMS)
        + ")"
    ):
        return False
    create_warehouse_tables(engine)
    with engine.transaction():
        for name in TEMPORARY + MOVED:
            engine.execute(f"drop table if exists {name}")
        for statement in sql_statements("warehouse/sql/no_new_facts.sql"):
            engine.execute(statement)
        next_key = engine.scalar("select coalesce(max(sales_key), 0) + 1 from warehouse.fact_sales")
        update_kept_sums(engine, {"first_sales_key": int(next_key)})
    logging.getLogger("cartwheel").info("analytics: kept sums filled from every sale")
    return True
