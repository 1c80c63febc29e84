-- The items this batch promoted that are not facts yet (a re-run finds none).
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
