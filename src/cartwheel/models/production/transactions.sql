-- Valid transactions; total_amount is reconciled with the items that were promoted.
with validated as (
    select * from staging.transactions_validated
),

items as (
    select * from staging.transaction_items_validated
),

item_totals as (
    select transaction_id, sum(line_total) as total_amount
    from items
    where reject_reason is null and version_rank = 1
    group by transaction_id
)

select
    validated.transaction_id,
    validated.customer_id,
    validated.transaction_date,
    validated.transaction_time,
    validated.payment_method,
    validated.shipping_address,
    item_totals.total_amount,
    validated.shipping_city,
    validated.shipping_state,
    validated.shipping_postal_code,
    validated.shipping_country
from validated
inner join item_totals on validated.transaction_id = item_totals.transaction_id
where validated.reject_reason is null and validated.version_rank = 1
