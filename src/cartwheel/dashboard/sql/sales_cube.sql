-- The main cube: month × category × state × payment method. Every filter applies to it.
-- `orders` counts distinct transactions within a cell; it adds up across months, states
-- and payment methods (a transaction has one of each: states and payment methods past
-- their caps add up into 'Other') but not across categories (a category past its cap is
-- folded in the order lines, before the cells are summed). Money keeps 4 decimals: the
-- page adds cells up and rounds the total to the cent at the end.
with cells as (
    select * from {{ sales_cells }}
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
inner join dashboard_names as states
    on states.kind = 'state' and cells.state_name = states.name
inner join dashboard_names as payment_methods
    on payment_methods.kind = 'payment_method'
    and cells.payment_method_name = payment_methods.name
group by cells.month_key, cells.category_name, states.shown, payment_methods.shown
order by cells.month_key, cells.category_name, states.shown, payment_methods.shown
