-- The ten best customers overall and in each state, by lifetime spend.
with per_customer as (
    select * from dashboard_customers
),

current_customers as (
    select customer_id, full_name, state, customer_segment
    from warehouse.dim_customers
    where is_current
),

ranked as (
    select
        per_customer.*,
        current_customers.full_name,
        coalesce(current_customers.state, 'Unknown') as state,
        current_customers.customer_segment,
        row_number() over (order by per_customer.total_spent desc, per_customer.customer_id)
            as overall_rank,
        row_number() over (
            partition by current_customers.state
            order by per_customer.total_spent desc, per_customer.customer_id
        ) as state_rank
    from per_customer
    left join current_customers on per_customer.customer_id = current_customers.customer_id
)

select
    customer_id,
    full_name,
    state,
    customer_segment,
    cast(round(total_spent, 2) as double) as total_spent,
    transaction_count,
    cast(round(total_spent / transaction_count, 2) as double) as avg_order_value,
    last_date_key,
    overall_rank,
    state_rank
from ranked
where overall_rank <= 10 or state_rank <= 10
order by total_spent desc, customer_id
