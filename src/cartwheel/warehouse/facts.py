"""fact_sales, appended per batch: new items only, each pointing at the customer and
product versions valid on its transaction date (point in time).

A batch that changes history (a late batch) may move version boundaries at or after its
business date; the facts of the touched keys from that date on are re-pointed, and
their profit recomputed with the cost of their new product version.
"""

from __future__ import annotations

from cartwheel.engines import Engine
from cartwheel.warehouse.dimensions import (
    CUSTOMERS,
    PRODUCTS,
    Dimension,
    backdate_first_versions,
)

# The items this batch promoted that are not facts yet (a re-run finds none).
NEW_ITEMS = """
    create temporary view wh_new_items as
    select
        items.item_id,
        items.transaction_id,
        items.product_id,
        items.quantity,
        items.unit_price,
        items.discount_percentage,
        items.line_total,
        transactions.customer_id,
        transactions.transaction_date,
        transactions.payment_method,
        transactions.shipping_city,
        transactions.shipping_state,
        transactions.shipping_postal_code,
        transactions.shipping_country
    from production.transaction_items as items
    inner join production.transactions as transactions
        on items.transaction_id = transactions.transaction_id
    where items.item_id in (
            select item_id from staging.transaction_items_validated
            where reject_reason is null and version_rank = 1
        )
        and not exists (
            select 1 from warehouse.fact_sales as facts where facts.item_id = items.item_id
        )
"""

INSERT_FACTS = """
    insert into warehouse.fact_sales (
        sales_key, date_key, customer_key, product_key, payment_method_key, transaction_id,
        item_id, quantity, unit_price, discount_amount, line_total, profit, shipping_city,
        shipping_state, shipping_postal_code, shipping_country, created_at
    )
    select
        (select first_sales_key from wh_batch) - 1
            + row_number() over (order by new_items.item_id) as sales_key,
        dates.date_key,
        customers.customer_key,
        products.product_key,
        payment_methods.payment_method_key,
        new_items.transaction_id,
        new_items.item_id,
        new_items.quantity,
        new_items.unit_price,
        new_items.quantity * new_items.unit_price - new_items.line_total as discount_amount,
        new_items.line_total,
        -- Profit uses the cost of the product version valid when the item was sold
        -- (NULL when the cost is not in the data).
        new_items.line_total - products.cost * new_items.quantity as profit,
        new_items.shipping_city,
        new_items.shipping_state,
        new_items.shipping_postal_code,
        new_items.shipping_country,
        current_timestamp as created_at
    from wh_new_items as new_items
    inner join warehouse.dim_date as dates on new_items.transaction_date = dates.full_date
    inner join warehouse.dim_customers as customers
        on new_items.customer_id = customers.customer_id
        and new_items.transaction_date >= customers.effective_date
        and (customers.end_date is null or new_items.transaction_date < customers.end_date)
    inner join warehouse.dim_products as products
        on new_items.product_id = products.product_id
        and new_items.transaction_date >= products.effective_date
        and (products.end_date is null or new_items.transaction_date < products.end_date)
    left join warehouse.dim_payment_method as payment_methods
        on new_items.payment_method = payment_methods.payment_method_name
"""


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


# The batch's sales by key, from its own validated rows (small): the earliest sale per
# customer and product, to stretch a first version back to it if needed.
BATCH_SALES = """
    create temporary table wh_batch_sales as
    select items.product_id, transactions.customer_id, transactions.transaction_date
    from staging.transaction_items_validated as items
    inner join staging.transactions_validated as transactions
        on items.transaction_id = transactions.transaction_id
        and transactions.reject_reason is null and transactions.version_rank = 1
    where items.reject_reason is null and items.version_rank = 1
"""


def insert_new_facts(engine: Engine) -> None:
    """Append this batch's new items as facts (after stretching first versions back to
    cover any sale that precedes them)."""
    engine.execute("drop table if exists wh_batch_sales")
    engine.execute(BATCH_SALES)
    for dim, date_column in ((CUSTOMERS, "customer_id"), (PRODUCTS, "product_id")):
        first_sales = f"wh_{dim.short}_first_sales"
        engine.execute(f"drop table if exists {first_sales}")
        engine.execute(
            f"create temporary table {first_sales} as "
            f"select {date_column}, min(transaction_date) as first_date "
            f"from wh_batch_sales group by {date_column}"
        )
        backdate_first_versions(engine, dim, first_sales)
    engine.execute("drop view if exists wh_new_items")
    engine.execute(NEW_ITEMS)
    engine.execute(INSERT_FACTS)
    engine.execute("drop view wh_new_items")
