-- Orders per month, state, payment method and customer segment, like
-- ops.dashboard_order_cells.
select
    month_key,
    state_name,
    payment_method_name,
    customer_segment,
    count(distinct transaction_id) as orders,
    sum(line_total) as revenue
from dashboard_lines
group by month_key, state_name, payment_method_name, customer_segment
