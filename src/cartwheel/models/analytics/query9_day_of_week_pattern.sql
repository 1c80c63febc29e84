-- Totals per date first, then averaged per weekday (a weekday with more dates in the
-- range must not look busier just for that).
-- Per date from agg_daily_sales (the warehouse step keeps it), not every sale again.
with daily as (
    select * from warehouse.agg_daily_sales
),

dates as (
    select * from warehouse.dim_date
),

per_date as (
    select
        dates.full_date,
        dates.day_name,
        cast(extract(isodow from dates.full_date) as integer) as iso_day_of_week,
        -- One row per date (one value each); summed as the sales' amounts (decimal(14, 4)) would be, so
        -- that every engine averages the same type as over the sales.
        sum(cast(daily.total_revenue as decimal(14, 4))) as revenue,
        max(daily.total_transactions) as transactions
    from daily
    inner join dates on daily.date_key = dates.date_key
    group by dates.full_date, dates.day_name
)

select
    day_name,
    cast(round(avg(revenue), 2) as decimal(18, 2)) as avg_daily_revenue,
    cast(round(avg(transactions), 2) as decimal(18, 2)) as avg_daily_transactions,
    cast(round(sum(revenue), 2) as decimal(18, 2)) as total_revenue
from per_date
group by day_name, iso_day_of_week
order by iso_day_of_week
