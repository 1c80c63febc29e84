-- Profit and margin of every product sold, most profitable first.
with sales as (
    select * from warehouse.fact_sales
),

products as (
    select * from warehouse.dim_products
),

current_products as (
    select product_id, product_name, category from products where is_current
),

per_product as (
    select
        products.product_id,
        -- NULL unless every line's cost is known: no profit from an invented cost.
        case when count(sales.profit) = count(*) then sum(sales.profit) end as total_profit,
        sum(sales.line_total) as revenue,
        sum(sales.quantity) as units_sold
    from sales
    inner join products on sales.product_key = products.product_key
    group by products.product_id
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
