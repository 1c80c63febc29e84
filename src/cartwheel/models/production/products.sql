-- The latest valid version of each product, enriched with margin and price category.
with validated as (
    select * from staging.products_validated
)

select
    product_id,
    product_name,
    category,
    sub_category,
    price,
    cost,
    brand,
    stock_quantity,
    supplier_id,
    round((price - cost) / price * 100, 2) as profit_margin,
    -- Bands used by the analytics: Budget < 50 <= Mid-range < 200 <= Premium.
    case
        when price < 50 then 'Budget'
        when price < 200 then 'Mid-range'
        else 'Premium'
    end as price_category
from validated
where reject_reason is null and version_rank = 1
