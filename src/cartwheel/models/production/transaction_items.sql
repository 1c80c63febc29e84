-- Valid items of valid transactions, with line_total recomputed by the contract's formula.
with validated as (
    select * from staging.transaction_items_validated
)

select
    item_id,
    transaction_id,
    product_id,
    quantity,
    unit_price,
    discount_percentage,
    line_total
from validated
where reject_reason is null and version_rank = 1
