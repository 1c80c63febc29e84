-- Sales per month × weekday × category, with how many such weekdays the month has in the
-- sales period: the page divides one by the other to get revenue per average Monday etc.
with lines as (
    select * from dashboard_lines
),

calendar as (
    select
        dates.year * 100 + dates.month as month_key,
        cast(extract(isodow from dates.full_date) as integer) as iso_day_of_week,
        count(*) as days
    from warehouse.dim_date as dates
    where dates.date_key between (select min(date_key) from lines)
        and (select max(date_key) from lines)
    group by 1, 2
),

per_day as (
    select
        month_key,
        iso_day_of_week,
        category,
        sum(line_total) as revenue,
        count(distinct transaction_id) as orders
    from lines
    group by month_key, iso_day_of_week, category
)

select
    calendar.month_key,
    calendar.iso_day_of_week,
    calendar.days,
    per_day.category,
    cast(round(coalesce(per_day.revenue, 0), 2) as double) as revenue,
    coalesce(per_day.orders, 0) as orders
from calendar
left join per_day
    on calendar.month_key = per_day.month_key
    and calendar.iso_day_of_week = per_day.iso_day_of_week
order by 1, 2, 4
