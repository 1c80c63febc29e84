-- Purchases per customer, over all its versions, keyed by the current version.
-- avg_order_value is per transaction, never per item.
with sales as (
    select * from warehouse.fact_sales
),

customers as (
    select customer_key, customer_id, is_current from warehouse.dim_customers
),

dates as (
    select date_key, full_date from warehouse.dim_date
),

per_customer as (
    select
        customers.customer_id,
        count(distinct sales.transaction_id) as total_transactions,
        sum(sales.line_total) as total_spent,
        max(dates.full_date) as last_purchase_date
    from sales
    inner join customers on sales.customer_key = customers.customer_key
    inner join dates on sales.date_key = dates.date_key
    group by customers.customer_id
)

select
    customers.customer_key,
    per_customer.total_transactions,
    per_customer.total_spent,
    round(per_customer.total_spent / per_customer.total_transactions, 2) as avg_order_value,
    per_customer.last_purchase_date
from per_customer
inner join customers on per_customer.customer_id = customers.customer_id and customers.is_current
