-- Share of transactions and revenue per payment method.
with sales as (
    select * from warehouse.fact_sales
),

methods as (
    select * from warehouse.dim_payment_method
),

per_method as (
    select
        methods.payment_method_name as payment_method,
        count(distinct sales.transaction_id) as transaction_count,
        sum(sales.line_total) as total_revenue
    from sales
    -- Orders without a payment method in the data form one row with an empty name.
    left join methods on sales.payment_method_key = methods.payment_method_key
    group by methods.payment_method_name
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
