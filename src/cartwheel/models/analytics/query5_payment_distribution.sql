-- Share of transactions and revenue per payment method.
-- From the order cells the warehouse step keeps (orders per month, state, payment method
-- and segment: a transaction has one of each, so its orders add up), not every sale.
with cells as (
    select * from ops.dashboard_order_cells
),

per_method as (
    select
        -- Orders without a payment method in the data form one row with an empty name.
        payment_method_name as payment_method,
        cast(sum(orders) as bigint) as transaction_count,
        -- Summed as the sales' amounts (decimal(14, 4)) would be, so that every engine
        -- divides and rounds the same type as over the sales.
        sum(cast(revenue as decimal(14, 4))) as total_revenue
    from cells
    group by payment_method_name
),

totals as (
    select sum(transaction_count) as all_transactions, sum(total_revenue) as all_revenue
    from per_method
)

select
    per_method.payment_method,
    per_method.transaction_count,
    cast(round(per_method.total_revenue, 2) as decimal(18, 2)) as total_revenue,
    cast(round(per_method.transaction_count * 100.0 / totals.all_transactions, 2) as decimal(18, 2))
        as pct_of_transactions,
    cast(round(per_method.total_revenue * 100 / totals.all_revenue, 2) as decimal(18, 2))
        as pct_of_revenue
from per_method
cross join totals
order by per_method.total_revenue desc, per_method.payment_method nulls last
