-- Profit and margin of every product sold, most profitable first.
-- Per product version from ops.product_version_sales (the warehouse step keeps it), not
-- every sale again.
with versions as (
    select * from ops.product_version_sales
),

products as (
    select * from warehouse.dim_products
),

current_products as (
    select product_id, product_name, category from products where is_current
),

-- Summed as the sales' amounts (decimal(14, 4) and (16, 4)) would be, so that every
-- engine divides and rounds the same type as over the sales.
per_product as (
    select
        product_id,
        -- NULL unless every line's cost is known: no profit from an invented cost.
        case
            when sum(costed_lines) = sum(order_lines)
                then sum(cast(profit as decimal(16, 4)))
        end as total_profit,
        sum(cast(revenue as decimal(14, 4))) as revenue,
        cast(sum(units) as bigint) as units_sold
    from versions
    group by product_id
)

select
    current_products.product_name,
    current_products.category,
    cast(round(per_product.total_profit, 2) as decimal(18, 2)) as total_profit,
    cast(round(per_product.total_profit / nullif(per_product.revenue, 0) * 100, 2) as decimal(18, 2))
        as profit_margin,
    cast(round(per_product.revenue, 2) as decimal(18, 2)) as revenue,
    per_product.units_sold
from per_product
inner join current_products on per_product.product_id = current_products.product_id
order by per_product.total_profit desc nulls last, per_product.product_id
