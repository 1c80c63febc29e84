-- The items promoted since the last warehouse pass (ops.warehouse_backlog) that are not
-- facts yet (a re-run finds none), with the first batch that promoted each.
create temporary view wh_new_items as
select
    items.item_id,
    backlog.loaded_in,
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
inner join (
    select item_id, min(batch_id) as loaded_in from ops.warehouse_backlog group by item_id
) as backlog on items.item_id = backlog.item_id
where not exists (
        select 1 from warehouse.fact_sales as facts where facts.item_id = items.item_id
    )
