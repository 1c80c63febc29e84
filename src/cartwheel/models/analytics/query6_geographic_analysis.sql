-- Revenue per state: the order's ship-to state where the data has one, else where the
-- customer lived when they bought (the customer version valid on the sale's date).
-- Per customer version and ship-to state from ops.customer_state_sales (the warehouse
-- step keeps it), not every sale again.
with sales as (
    select * from ops.customer_state_sales
),

customers as (
    select customer_key, state from warehouse.dim_customers
),

-- Summed as the sales' amounts (decimal(14, 4)) would be, so that every engine divides
-- and rounds the same type as over the sales.
per_state as (
    select
        coalesce(sales.shipping_state, customers.state) as state,
        sum(cast(sales.revenue as decimal(14, 4))) as total_revenue,
        count(distinct sales.customer_id) as total_customers
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
