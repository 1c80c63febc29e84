-- Revenue, profit and units per month, category and `key` (sub_category, product_id)
-- over order lines `lines`: the sums of ops.dashboard_sub_category_months and
-- ops.dashboard_product_months.
select
    month_key,
    category_name,
    {{ key }},
    sum(line_total) as revenue,
    sum(profit) as profit,
    sum(quantity) as units
from {{ lines }}
group by month_key, category_name, {{ key }}
