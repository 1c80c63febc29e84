-- Totals per date first, then averaged per weekday (a weekday with more dates in the
-- range must not look busier just for that).
with sales as (
    select * from warehouse.fact_sales
),

dates as (
    select * from warehouse.dim_date
),

per_date as (
    select
        dates.full_date,
        dates.day_name,
        cast(extract(isodow from dates.full_date) as integer) as iso_day_of_week,
        sum(sales.line_total) as revenue,
        count(distinct sales.transaction_id) as transactions
    from sales
    inner join dates on sales.date_key = dates.date_key
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
