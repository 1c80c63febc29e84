-- Transactions: month × state × payment method × customer segment (today's segment of
-- the customer). These are attributes of a whole transaction, so order counts here add
-- up exactly under any filter that has no category (the sales cube answers order counts
-- for one category).
with cells as (
    select * from {{ order_cells }}
)

select
    cells.month_key,
    states.shown as state,
    payment_methods.shown as payment_method,
    cells.customer_segment,
    cast(sum(cells.orders) as bigint) as orders,
    cast(round(sum(cells.revenue), 4) as double) as revenue
from cells
inner join dashboard_names as states
    on states.kind = 'state' and cells.state_name = states.name
inner join dashboard_names as payment_methods
    on payment_methods.kind = 'payment_method'
    and coalesce(cells.payment_method_name, 'Unknown') = payment_methods.name
group by cells.month_key, states.shown, payment_methods.shown, cells.customer_segment
order by cells.month_key, states.shown, payment_methods.shown, cells.customer_segment
