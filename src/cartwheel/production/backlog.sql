-- This batch's promoted items, queued for the warehouse (ops.warehouse_backlog): the
-- batch being processed (rows released from an earlier batch's quarantine count as this
-- one's), and the customer and date of each sale. Both statements name the batch by the
-- same rule, the latest batch of ops.run_batches, written here only.

-- A pass run again for its batch (before a warehouse pass) queues its items anew, not
-- twice: a batch queues each item once, which the warehouse relies on.
delete from ops.warehouse_backlog
where batch_id = (select max(batch_id) from ops.run_batches);

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
from staging.transaction_items_validated as items
inner join staging.transactions_validated as transactions
    on items.transaction_id = transactions.transaction_id
    and transactions.reject_reason is null and transactions.version_rank = 1
where items.reject_reason is null and items.version_rank = 1
