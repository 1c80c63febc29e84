-- Lifetime value of every customer who bought. Days since registration are counted to
-- the last sale in the data, not to today, so the file does not change with the clock.
with sales as (
    select * from warehouse.fact_sales
),

customers as (
    select * from warehouse.dim_customers
),

dates as (
    select date_key, full_date from warehouse.dim_date
),

current_customers as (
    select customer_id, full_name, registration_date from customers where is_current
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

last_sale as (
    select max(dates.full_date) as as_of_date
    from sales
    inner join dates on sales.date_key = dates.date_key
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
