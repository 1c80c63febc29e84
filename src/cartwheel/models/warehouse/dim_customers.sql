-- Customers as a slowly changing dimension (type 2): one row per version.
-- customer_segment, from purchase history: VIP spent 5,000 or more in all;
-- Regular has two or more transactions; everyone else is New.
with customers as (
    select * from production.customers
),

transactions as (
    select * from production.transactions
),

purchase_history as (
    select customer_id, count(*) as transaction_count, sum(total_amount) as total_spent
    from transactions
    group by customer_id
)

select
    row_number() over (order by customers.customer_id) as customer_key,
    customers.customer_id,
    customers.first_name || ' ' || customers.last_name as full_name,
    customers.email,
    customers.city,
    customers.state,
    customers.country,
    customers.age_group,
    case
        when coalesce(purchase_history.total_spent, 0) >= 5000 then 'VIP'
        when coalesce(purchase_history.transaction_count, 0) >= 2 then 'Regular'
        else 'New'
    end as customer_segment,
    customers.registration_date,
    customers.registration_date as effective_date,
    cast(null as date) as end_date,
    true as is_current
from customers
left join purchase_history on customers.customer_id = purchase_history.customer_id
