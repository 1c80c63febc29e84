-- The latest valid version of each product, enriched with margin and price category.
with validated as (
    select * from staging.products_validated
)

select
    validated.product_id,
    validated.product_name,
    validated.category,
    validated.sub_category,
    validated.price,
    validated.cost,
    validated.brand,
    validated.stock_quantity,
    validated.supplier_id,
    -- NULL without a cost: a margin is never computed from an invented cost.
    round((validated.price - validated.cost) / validated.price * 100, 2) as profit_margin,
    -- The configured price bands (Budget < 50 <= Mid-range < 200 <= Premium by default).
    bands.name as price_category
from validated
{{ include band_of band_set=price_category value=validated.price }}
where validated.reject_reason is null and validated.version_rank = 1
