-- Sales per product, over all its versions, keyed by the current version.
with sales as (
    select * from warehouse.fact_sales
),

products as (
    select product_key, product_id, is_current from warehouse.dim_products
),

items as (
    select item_id, discount_percentage from production.transaction_items
),

per_product as (
    select
        products.product_id,
        sum(sales.quantity) as total_quantity_sold,
        sum(sales.line_total) as total_revenue,
        sum(sales.profit) as total_profit,
        round(avg(items.discount_percentage), 2) as avg_discount_percentage
    from sales
    inner join products on sales.product_key = products.product_key
    inner join items on sales.item_id = items.item_id
    group by products.product_id
)

select
    products.product_key,
    per_product.total_quantity_sold,
    per_product.total_revenue,
    per_product.total_profit,
    per_product.avg_discount_percentage
from per_product
inner join products on per_product.product_id = products.product_id and products.is_current
