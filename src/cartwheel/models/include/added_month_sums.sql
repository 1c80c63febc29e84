-- Revenue, profit and units per month, category and `key` for warehouse/aggregates.sql:
-- the kept rows of `table` in the added months (wh_added_months) and the sums of the
-- lines to add up (wh_month_lines), added up.
select
    month_key,
    category_name,
    {{ key }},
    sum(revenue) as revenue,
    sum(profit) as profit,
    sum(units) as units
from (
    select month_key, category_name, {{ key }}, revenue, profit, units
    from {{ table }}
    where month_key in (select month_key from wh_added_months)
    union all
    {{ include month_sums key={{ key }} lines=wh_month_lines }}
) as sums
group by month_key, category_name, {{ key }}
