-- Production items that are neither facts nor queued (their queue entry was lost): queued
-- now as items of this pass's last batch, so that fact rows always equal promoted items.
insert into ops.warehouse_backlog (
    batch_id, item_id, product_id, customer_id, transaction_date, discount_percentage
)
select
    (select max(batch_id) from ops.run_batches),
    items.item_id,
    items.product_id,
    transactions.customer_id,
    transactions.transaction_date,
    items.discount_percentage
from production.transaction_items as items
inner join production.transactions as transactions
    on items.transaction_id = transactions.transaction_id
where not exists (
        select 1 from warehouse.fact_sales as facts where facts.item_id = items.item_id
    )
    and not exists (
        select 1 from ops.warehouse_backlog as queued where queued.item_id = items.item_id
    )
