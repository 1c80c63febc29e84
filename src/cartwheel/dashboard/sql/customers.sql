-- Customers by lifetime spend band (the configured bands of query 3, ops.bands) and state.
with per_customer as (
    select * from dashboard_customers
),

current_customers as (
    select customer_id, state from warehouse.dim_customers where is_current
)

select
    coalesce(current_customers.state, 'Unknown') as state,
    bands.position as band,
    count(*) as customer_count,
    cast(round(sum(per_customer.total_spent), 4) as double) as revenue,
    cast(sum(per_customer.transaction_count) as bigint) as orders
from per_customer
left join current_customers on per_customer.customer_id = current_customers.customer_id
{{ include band_of band_set=spending_segment value=per_customer.total_spent }}
group by 1, 2
order by 1, 2
