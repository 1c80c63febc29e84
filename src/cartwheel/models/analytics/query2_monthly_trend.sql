-- Revenue, orders and customers per calendar month; order value is per transaction.
with sales as (
    select * from warehouse.fact_sales
),

dates as (
    select * from warehouse.dim_date
),

customers as (
    select customer_key, customer_id from warehouse.dim_customers
),

monthly as (
    select
        dates.year,
        dates.month,
        sum(sales.line_total) as total_revenue,
        count(distinct sales.transaction_id) as total_transactions,
        count(distinct customers.customer_id) as unique_customers
    from sales
    inner join dates on sales.date_key = dates.date_key
    inner join customers on sales.customer_key = customers.customer_key
    group by dates.year, dates.month
)

select
    cast(year as varchar) || '-' || lpad(cast(month as varchar), 2, '0') as year_month,
    cast(round(total_revenue, 2) as decimal(18, 2)) as total_revenue,
    total_transactions,
    cast(round(total_revenue / total_transactions, 2) as decimal(18, 2)) as average_order_value,
    unique_customers
from monthly
order by year, month
