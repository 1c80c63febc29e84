-- Revenue, profit and margin per category.
with sales as (
    select * from warehouse.fact_sales
),

products as (
    select product_key, category from warehouse.dim_products
),

per_category as (
    select
        products.category,
        sum(sales.line_total) as total_revenue,
        -- NULL unless every line's cost is known: no profit from an invented cost.
        case when count(sales.profit) = count(*) then sum(sales.profit) end as total_profit,
        sum(sales.quantity) as units_sold
    from sales
    inner join products on sales.product_key = products.product_key
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
