-- The main cube (see ../sales_cube.sql) from the monthly sums: every category is its own
-- (no category past the cap), states and payment methods past theirs add up into 'Other'
-- (a transaction has one of each, so its orders add up too).
with cells as (
    select * from ops.dashboard_sales_cells
),

states as (
    select name, shown from dashboard_names where kind = 'state'
),

payment_methods as (
    select name, shown from dashboard_names where kind = 'payment_method'
)

select
    cells.month_key,
    cells.category_name as category,
    states.shown as state,
    payment_methods.shown as payment_method,
    cast(round(sum(cells.revenue), 4) as double) as revenue,
    cast(round(sum(cells.profit), 4) as double) as profit,
    cast(round(sum(cells.costed_revenue), 4) as double) as costed_revenue,
    cast(sum(cells.units) as bigint) as units,
    cast(sum(cells.order_lines) as bigint) as order_lines,
    cast(sum(cells.orders) as bigint) as orders
from cells
inner join states on cells.state_name = states.name
inner join payment_methods on cells.payment_method_name = payment_methods.name
group by cells.month_key, cells.category_name, states.shown, payment_methods.shown
order by cells.month_key, cells.category_name, states.shown, payment_methods.shown
