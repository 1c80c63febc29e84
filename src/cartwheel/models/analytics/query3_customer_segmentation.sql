-- Customers banded by lifetime spend.
-- Lifetime totals per customer, kept by the warehouse step (one row per customer who
-- bought, under the key of their current version), instead of every sale again.
with metrics as (
    select * from warehouse.agg_customer_metrics
),

customers as (
    select customer_key, customer_id from warehouse.dim_customers
),

-- One row per customer (one value each); summed as the sales' amounts (decimal(14, 4)) would be, so that
-- every engine divides and rounds the same type as over the sales.
per_customer as (
    select
        customers.customer_id,
        sum(cast(metrics.total_spent as decimal(14, 4))) as total_spent,
        max(metrics.total_transactions) as transaction_count
    from metrics
    inner join customers on metrics.customer_key = customers.customer_key
    group by customers.customer_id
),

banded as (
    -- The configured spend bands (ops.bands), in their order.
    select per_customer.*, bands.position as band, bands.name as band_name
    from per_customer
    {{ include band_of band_set=spending_segment value=per_customer.total_spent }}
)

select
    band_name as spending_segment,
    count(*) as customer_count,
    cast(round(sum(total_spent), 2) as decimal(18, 2)) as total_revenue,
    cast(round(sum(total_spent) / sum(transaction_count), 2) as decimal(18, 2))
        as avg_transaction_value
from banded
group by band, band_name
order by band
