-- Revenue, orders and customers per calendar month; order value is per transaction.
-- Per month from ops.monthly_sales (the warehouse step recomputes the months a batch
-- touched), not every sale again.
with monthly as (
    -- One row per month (one value each); summed as the sales' amounts (decimal(14, 4)) would be, so that
    -- every engine divides and rounds the same type as over the sales.
    select
        year,
        month,
        sum(cast(revenue as decimal(14, 4))) as total_revenue,
        max(transactions) as total_transactions,
        max(unique_customers) as unique_customers
    from ops.monthly_sales
    group by year, month
)

select
    cast(year as varchar) || '-' || lpad(cast(month as varchar), 2, '0') as year_month,
    cast(round(total_revenue, 2) as decimal(18, 2)) as total_revenue,
    total_transactions,
    cast(round(total_revenue / total_transactions, 2) as decimal(18, 2)) as average_order_value,
    unique_customers
from monthly
order by year, month
