-- Built once as a temporary table that the customer queries read: lifetime spend per
-- customer over every version of the customer.
with lines as (
    select * from dashboard_lines
)

select
    customer_id,
    sum(line_total) as total_spent,
    count(distinct transaction_id) as transaction_count,
    max(date_key) as last_date_key
from lines
group by customer_id
