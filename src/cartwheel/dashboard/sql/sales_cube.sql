-- The main cube: month × category × state × payment method. Every filter applies to it.
-- `orders` counts distinct transactions within a cell; it adds up across months, states
-- and payment methods (a transaction has one of each) but not across categories. Money keeps
-- 4 decimals: the page adds cells up and rounds the total to the cent at the end.
with lines as (
    select * from dashboard_lines
)

select
    month_key,
    category,
    state,
    payment_method,
    cast(round(sum(line_total), 4) as double) as revenue,
    cast(round(sum(profit), 4) as double) as profit,
    -- Revenue of the lines whose cost is known: the margin's base (profit is unknown
    -- without a cost, so it is neither counted as zero nor left out of the base silently).
    cast(round(sum(case when profit is not null then line_total end), 4) as double)
        as costed_revenue,
    cast(sum(quantity) as bigint) as units,
    count(*) as order_lines,
    count(distinct transaction_id) as orders
from lines
group by month_key, category, state, payment_method
order by month_key, category, state, payment_method
