-- The new items (wh_queued_items) with their production rows and transactions: the
-- columns of their facts.
create temporary view wh_new_items as
select
    queued.sales_key,
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
inner join wh_queued_items as queued on items.item_id = queued.item_id
