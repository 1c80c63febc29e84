-- Customers by lifetime spend band and state, with the bands of SPEC query 3.
with per_customer as (
    select * from dashboard_customers
),

current_customers as (
    select customer_id, state from warehouse.dim_customers where is_current
)

select
    coalesce(current_customers.state, 'Unknown') as state,
    case
        when per_customer.total_spent < 1000 then 1
        when per_customer.total_spent < 5000 then 2
        when per_customer.total_spent < 10000 then 3
        else 4
    end as band,
    count(*) as customer_count,
    cast(round(sum(per_customer.total_spent), 4) as double) as revenue,
    cast(sum(per_customer.transaction_count) as bigint) as orders
from per_customer
left join current_customers on per_customer.customer_id = current_customers.customer_id
group by 1, 2
order by 1, 2
