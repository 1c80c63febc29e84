-- Transactions: month × state × payment method × customer segment (see ../orders_cube.sql),
-- from the facts: the segment is the customer's of today, so no monthly sum keeps it.
with sales as (
    select date_key, customer_key, payment_method_key, shipping_state, transaction_id, line_total
    from warehouse.fact_sales
),

states as (
    select name, shown from dashboard_names where kind = 'state'
),

payment_methods as (
    select name, shown from dashboard_names where kind = 'payment_method'
),

per_cell as (
    select
        dates.year * 100 + dates.month as month_key,
        coalesce(sales.shipping_state, customers.state, 'Unknown') as state_name,
        coalesce(methods.payment_method_name, 'Unknown') as payment_method_name,
        coalesce(customers.customer_segment, 'Unknown') as customer_segment,
        count(distinct sales.transaction_id) as orders,
        sum(sales.line_total) as revenue
    from sales
    inner join warehouse.dim_date as dates on sales.date_key = dates.date_key
    inner join warehouse.dim_customers as customers
        on sales.customer_key = customers.customer_key
    left join warehouse.dim_payment_method as methods
        on sales.payment_method_key = methods.payment_method_key
    group by 1, 2, 3, 4
)

select
    per_cell.month_key,
    states.shown as state,
    payment_methods.shown as payment_method,
    per_cell.customer_segment,
    cast(sum(per_cell.orders) as bigint) as orders,
    cast(round(sum(per_cell.revenue), 4) as double) as revenue
from per_cell
inner join states on per_cell.state_name = states.name
inner join payment_methods on per_cell.payment_method_name = payment_methods.name
group by per_cell.month_key, states.shown, payment_methods.shown, per_cell.customer_segment
order by per_cell.month_key, states.shown, payment_methods.shown, per_cell.customer_segment
