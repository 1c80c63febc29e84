-- The best-selling products of each category, per month, with their current attributes.
-- Only the top {{ products_per_category }} of each category are kept, so the file does not
-- grow with the catalogue.
with months as (
    select * from {{ product_months }}
),

per_product as (
    select product_id, category_name, sum(revenue) as revenue
    from months
    group by product_id, category_name
),

ranked as (
    select
        product_id,
        row_number() over (partition by category_name order by revenue desc, product_id)
            as rank_in_category
    from per_product
),

chosen as (
    select distinct product_id from ranked where rank_in_category <= {{ products_per_category }}
),

current_products as (
    select product_id, product_name, sub_category, brand, price, cost
    from warehouse.dim_products
    where is_current
),

per_month as (
    select
        months.product_id,
        months.category_name as category,
        months.month_key,
        sum(months.revenue) as revenue,
        sum(months.profit) as profit,
        cast(sum(months.units) as bigint) as units
    from months
    inner join chosen on months.product_id = chosen.product_id
    group by months.product_id, months.category_name, months.month_key
)

select
    per_month.product_id,
    current_products.product_name,
    per_month.category,
    current_products.sub_category,
    current_products.brand,
    cast(current_products.price as double) as price,
    cast(current_products.cost as double) as cost,
    per_month.month_key,
    cast(round(per_month.revenue, 4) as double) as revenue,
    cast(round(per_month.profit, 4) as double) as profit,
    per_month.units
from per_month
inner join current_products on per_month.product_id = current_products.product_id
order by per_month.product_id, per_month.month_key
