-- Revenue per state: the order's ship-to state where the data has one, else where the
-- customer lived when they bought (the customer version valid on the sale's date).
with sales as (
    select * from warehouse.fact_sales
),

customers as (
    select customer_key, customer_id, state from warehouse.dim_customers
),

per_state as (
    select
        coalesce(sales.shipping_state, customers.state) as state,
        sum(sales.line_total) as total_revenue,
        count(distinct customers.customer_id) as total_customers
    from sales
    inner join customers on sales.customer_key = customers.customer_key
    group by coalesce(sales.shipping_state, customers.state)
)

select
    state,
    cast(round(total_revenue, 2) as decimal(18, 2)) as total_revenue,
    total_customers,
    cast(round(total_revenue / total_customers, 2) as decimal(18, 2)) as avg_revenue_per_customer
from per_state
order by total_revenue desc, state
