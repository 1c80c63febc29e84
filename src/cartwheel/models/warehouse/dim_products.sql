-- Products as a slowly changing dimension (type 2): one row per version.
with products as (
    select * from production.products
),

first_sale as (
    select min(transaction_date) as first_date from production.transactions
)

select
    row_number() over (order by products.product_id) as product_key,
    products.product_id,
    products.product_name,
    products.category,
    products.sub_category,
    products.brand,
    products.price,
    products.cost,
    products.price_category as price_range,
    coalesce(first_sale.first_date, current_date) as effective_date,
    cast(null as date) as end_date,
    true as is_current
from products
cross join first_sale
