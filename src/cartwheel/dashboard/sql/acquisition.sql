-- New customers per registration month and state (current version of each customer).
with customers as (
    select customer_id, state, registration_date
    from warehouse.dim_customers
    where is_current
)

select
    cast(extract(year from registration_date) as integer) * 100
    + cast(extract(month from registration_date) as integer) as month_key,
    coalesce(state, 'Unknown') as state,
    count(*) as customers
from customers
group by 1, 2
order by 1, 2
