-- The sums of ops.dashboard_category_days over order lines `lines` (month_key, date_key,
-- category_name, transaction_id, line_total).
select
    month_key,
    date_key,
    category_name,
    sum(line_total) as revenue,
    count(distinct transaction_id) as orders
from {{ lines }}
group by month_key, date_key, category_name
