-- Sales per month × weekday × category, with how many such weekdays the month has in the
-- sales period: the page divides one by the other to get revenue per average Monday etc.
with days as (
    select * from {{ category_days }}
),

calendar as (
    select
        dates.year * 100 + dates.month as month_key,
        cast(extract(isodow from dates.full_date) as integer) as iso_day_of_week,
        count(*) as days
    from warehouse.dim_date as dates
    where dates.date_key between (select min(date_key) from days)
        and (select max(date_key) from days)
    group by 1, 2
),

per_day as (
    select
        days.month_key,
        cast(extract(isodow from dates.full_date) as integer) as iso_day_of_week,
        days.category_name as category,
        sum(days.revenue) as revenue,
        cast(sum(days.orders) as bigint) as orders
    from days
    inner join warehouse.dim_date as dates on days.date_key = dates.date_key
    group by 1, 2, 3
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
