-- Lifetime value of every customer who bought. Days since registration are counted to
-- the last sale in the data, not to today, so the file does not change with the clock.
-- Lifetime totals per customer, kept by the warehouse step (one row per customer who
-- bought, under the key of their current version), instead of every sale again.
with metrics as (
    select * from warehouse.agg_customer_metrics
),

customers as (
    select * from warehouse.dim_customers
),

current_customers as (
    select customer_id, full_name, registration_date from customers where is_current
),

-- One row per customer (one value each); summed as the sales' amounts (decimal(14, 4)) would be, so that
-- every engine divides and rounds the same type as over the sales.
per_customer as (
    select
        customers.customer_id,
        sum(cast(metrics.total_spent as decimal(14, 4))) as total_spent,
        max(metrics.total_transactions) as transaction_count
    from metrics
    inner join customers on metrics.customer_key = customers.customer_key
    group by customers.customer_id
),

-- The last day with sales (every such day has its row in agg_daily_sales).
last_sale as (
    select max(dates.full_date) as as_of_date
    from warehouse.agg_daily_sales as daily
    inner join warehouse.dim_date as dates on daily.date_key = dates.date_key
)

select
    per_customer.customer_id,
    current_customers.full_name,
    cast(round(per_customer.total_spent, 2) as decimal(18, 2)) as total_spent,
    per_customer.transaction_count,
    last_sale.as_of_date - current_customers.registration_date as days_since_registration,
    cast(round(per_customer.total_spent / per_customer.transaction_count, 2) as decimal(18, 2))
        as avg_order_value
from per_customer
inner join current_customers on per_customer.customer_id = current_customers.customer_id
cross join last_sale
order by per_customer.total_spent desc, per_customer.customer_id
