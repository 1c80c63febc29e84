-- Valid transactions; total_amount is reconciled with the items that were promoted.
with validated as (
    select * from staging.transactions_validated
)

select
    transaction_id,
    customer_id,
    transaction_date,
    transaction_time,
    payment_method,
    shipping_address,
    items_total as total_amount,
    shipping_city,
    shipping_state,
    shipping_postal_code,
    shipping_country
from validated
where reject_reason is null and version_rank = 1
