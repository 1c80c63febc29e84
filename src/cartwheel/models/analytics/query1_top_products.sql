-- Top 10 products by revenue (all versions of a product count under its current name).
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

-- Summed as the sales' amounts (decimal(14, 4)) would be, so that every engine divides
-- and rounds the same type as over the sales; the average price is per order line.
per_product as (
    select
        product_id,
        sum(cast(revenue as decimal(14, 4))) as total_revenue,
        cast(sum(units) as bigint) as units_sold,
        sum(unit_price_sum) / sum(order_lines) as avg_price
    from versions
    group by product_id
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
