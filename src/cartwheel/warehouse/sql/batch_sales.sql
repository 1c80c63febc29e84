-- The batch's sales by key, from its own validated rows (small): the earliest sale per
-- customer and product, to stretch a first version back to it if needed.
create temporary table wh_batch_sales as
select items.product_id, transactions.customer_id, transactions.transaction_date
from staging.transaction_items_validated as items
inner join staging.transactions_validated as transactions
    on items.transaction_id = transactions.transaction_id
    and transactions.reject_reason is null and transactions.version_rank = 1
where items.reject_reason is null and items.version_rank = 1
