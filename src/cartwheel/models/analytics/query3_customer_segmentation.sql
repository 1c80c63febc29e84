-- Customers banded by lifetime spend.
with sales as (
    select * from warehouse.fact_sales
),

customers as (
    select customer_key, customer_id from warehouse.dim_customers
),

per_customer as (
    select
        customers.customer_id,
        sum(sales.line_total) as total_spent,
        count(distinct sales.transaction_id) as transaction_count
    from sales
    inner join customers on sales.customer_key = customers.customer_key
    group by customers.customer_id
),

banded as (
    -- The configured spend bands (ops.bands), in their order.
    select per_customer.*, bands.position as band, bands.name as band_name
    from per_customer
    {{ include band_of band_set=spending_segment value=per_customer.total_spent }}
)

select
    band_name as spending_segment,
    count(*) as customer_count,
    cast(round(sum(total_spent), 2) as decimal(18, 2)) as total_revenue,
    cast(round(sum(total_spent) / sum(transaction_count), 2) as decimal(18, 2))
        as avg_transaction_value
from banded
group by band, band_name
order by band
