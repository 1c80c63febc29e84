-- Revenue, profit and margin per category (the category of the product version sold).
-- Per product version from ops.product_version_sales (the warehouse step keeps it), not
-- every sale again.
with versions as (
    select * from ops.product_version_sales
),

products as (
    select product_key, category from warehouse.dim_products
),

-- Summed as the sales' amounts (decimal(14, 4) and (16, 4)) would be, so that every
-- engine divides and rounds the same type as over the sales.
per_category as (
    select
        products.category,
        sum(cast(versions.revenue as decimal(14, 4))) as total_revenue,
        -- NULL unless every line's cost is known: no profit from an invented cost.
        case
            when sum(versions.costed_lines) = sum(versions.order_lines)
                then sum(cast(versions.profit as decimal(16, 4)))
        end as total_profit,
        cast(sum(versions.units) as bigint) as units_sold
    from versions
    inner join products on versions.product_key = products.product_key
    group by products.category
)

select
    category,
    cast(round(total_revenue, 2) as decimal(18, 2)) as total_revenue,
    cast(round(total_profit, 2) as decimal(18, 2)) as total_profit,
    cast(round(total_profit / nullif(total_revenue, 0) * 100, 2) as decimal(18, 2)) as profit_margin_pct,
    units_sold
from per_category
order by total_revenue desc, category
