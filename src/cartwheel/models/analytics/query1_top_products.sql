-- Top 10 products by revenue (all versions of a product count under its current name).
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
        sum(sales.line_total) as total_revenue,
        sum(sales.quantity) as units_sold,
        avg(sales.unit_price) as avg_price
    from sales
    inner join products on sales.product_key = products.product_key
    group by products.product_id
)

select
    current_products.product_name,
    current_products.category,
    cast(round(per_product.total_revenue, 2) as decimal(18, 2)) as total_revenue,
    per_product.units_sold,
    cast(round(per_product.avg_price, 2) as decimal(18, 2)) as avg_price
from per_product
inner join current_products on per_product.product_id = current_products.product_id
order by per_product.total_revenue desc, per_product.product_id
limit 10
