-- Built once as a temporary table that the customer queries read: lifetime spend per
-- customer, from the totals the warehouse step keeps (one row per customer who bought,
-- under the key of their current version) rather than from every sale again.
with metrics as (
    select * from warehouse.agg_customer_metrics
)

-- One row per customer (one value each); summed as the sales' amounts (decimal(14, 4)) would be, so that
-- every engine divides and rounds the same type as over the sales.
select
    customers.customer_id,
    sum(cast(metrics.total_spent as decimal(14, 4))) as total_spent,
    max(metrics.total_transactions) as transaction_count,
    max(dates.date_key) as last_date_key
from metrics
inner join warehouse.dim_customers as customers on metrics.customer_key = customers.customer_key
inner join warehouse.dim_date as dates on metrics.last_purchase_date = dates.full_date
group by customers.customer_id
