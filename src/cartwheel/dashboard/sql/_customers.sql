-- Built once as a temporary table that the customer queries read: lifetime spend per
-- customer, from the totals the warehouse step keeps (one row per customer who bought,
-- under the key of their current version) rather than from every sale again.
with metrics as (
    select * from warehouse.agg_customer_metrics
)

select
    customers.customer_id,
    cast(metrics.total_spent as decimal(38, 4)) as total_spent,
    metrics.total_transactions as transaction_count,
    dates.date_key as last_date_key
from metrics
inner join warehouse.dim_customers as customers on metrics.customer_key = customers.customer_key
inner join warehouse.dim_date as dates on metrics.last_purchase_date = dates.full_date
