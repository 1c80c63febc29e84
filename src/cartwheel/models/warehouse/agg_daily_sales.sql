-- Sales per day.
with sales as (
    select * from warehouse.fact_sales
),

customers as (
    select customer_key, customer_id from warehouse.dim_customers
)

select
    sales.date_key,
    count(distinct sales.transaction_id) as total_transactions,
    sum(sales.line_total) as total_revenue,
    sum(sales.profit) as total_profit,
    count(distinct customers.customer_id) as unique_customers
from sales
inner join customers on sales.customer_key = customers.customer_key
group by sales.date_key
