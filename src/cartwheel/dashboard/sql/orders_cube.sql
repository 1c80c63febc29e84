-- Transactions: month × state × payment method × customer segment. These are attributes of
-- a whole transaction, so order counts here add up exactly under any filter that has no
-- category (the sales cube answers order counts for one category).
with lines as (
    select * from dashboard_lines
)

select
    month_key,
    state,
    payment_method,
    customer_segment,
    count(distinct transaction_id) as orders,
    cast(round(sum(line_total), 4) as double) as revenue
from lines
group by month_key, state, payment_method, customer_segment
order by month_key, state, payment_method, customer_segment
