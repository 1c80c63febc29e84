-- Customers banded by lifetime spend.
with sales as (
    select * from warehouse.fact_sales
),

customers as (
    select customer_key, customer_id from warehouse.dim_customers
),

per_customer as (
    select
        customers.customer_id,
        sum(sales.line_total) as total_spent,
        count(distinct sales.transaction_id) as transaction_count
    from sales
    inner join customers on sales.customer_key = customers.customer_key
    group by customers.customer_id
),

banded as (
    select
        *,
        case
            when total_spent < 1000 then 1
            when total_spent < 5000 then 2
            when total_spent < 10000 then 3
            else 4
        end as band
    from per_customer
)

select
    case band
        when 1 then '$0-$1,000'
        when 2 then '$1,000-$5,000'
        when 3 then '$5,000-$10,000'
        else '$10,000+'
    end as spending_segment,
    count(*) as customer_count,
    cast(round(sum(total_spent), 2) as decimal(18, 2)) as total_revenue,
    cast(round(sum(total_spent) / sum(transaction_count), 2) as decimal(18, 2))
        as avg_transaction_value
from banded
group by band
order by band
