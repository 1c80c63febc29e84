-- Transactions: month × state × payment method × customer segment (see ../orders_cube.sql),
-- from the order cells the warehouse step keeps with today's segments.
with cells as (
    select * from ops.dashboard_order_cells
),

states as (
    select name, shown from dashboard_names where kind = 'state'
),

payment_methods as (
    select name, shown from dashboard_names where kind = 'payment_method'
)

select
    cells.month_key,
    states.shown as state,
    payment_methods.shown as payment_method,
    cells.customer_segment,
    cast(sum(cells.orders) as bigint) as orders,
    cast(round(sum(cells.revenue), 4) as double) as revenue
from cells
inner join states on cells.state_name = states.name
inner join payment_methods
    on coalesce(cells.payment_method_name, 'Unknown') = payment_methods.name
group by cells.month_key, states.shown, payment_methods.shown, cells.customer_segment
order by cells.month_key, states.shown, payment_methods.shown, cells.customer_segment
