-- Revenue, orders and customers per calendar month; order value is per transaction.
-- Per month from ops.monthly_sales (the warehouse step recomputes the months a batch
-- touched), not every sale again.
with monthly as (
    select
        year,
        month,
        cast(revenue as decimal(38, 4)) as total_revenue,
        transactions as total_transactions,
        unique_customers
    from ops.monthly_sales
)

select
    cast(year as varchar) || '-' || lpad(cast(month as varchar), 2, '0') as year_month,
    cast(round(total_revenue, 2) as decimal(18, 2)) as total_revenue,
    total_transactions,
    cast(round(total_revenue / total_transactions, 2) as decimal(18, 2)) as average_order_value,
    unique_customers
from monthly
order by year, month
