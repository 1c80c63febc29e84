-- The sums of ops.dashboard_sales_cells over order lines `lines` (month_key,
-- category_name, state_name, payment_method_name, transaction_id, quantity, line_total,
-- profit): the warehouse step's, and the dashboard's own where it reads the lines.
select
    month_key,
    category_name,
    state_name,
    -- Orders whose payment method is not in the data.
    coalesce(payment_method_name, 'Unknown') as payment_method_name,
    sum(line_total) as revenue,
    sum(profit) as profit,
    -- Revenue of the lines whose cost is known: the margin's base (profit is unknown
    -- without a cost, so it is neither counted as zero nor left out of the base silently).
    sum(case when profit is not null then line_total end) as costed_revenue,
    sum(quantity) as units,
    count(*) as order_lines,
    count(distinct transaction_id) as orders
from {{ lines }}
group by month_key, category_name, state_name, coalesce(payment_method_name, 'Unknown')
