-- Daily transactions (0 on days without sales) against the preceding `window` days
-- (orchestration/monitor.py fills in window and sigmas): a day is an anomaly when it
-- lies more than `sigmas` standard deviations from their mean.
with bounds as (
    select min(date_key) as first_key, max(date_key) as last_key
    from warehouse.agg_daily_sales
),

daily as (
    -- the date dimension supplies the days without a single sale, which count as 0
    select dim_date.full_date, coalesce(sales.total_transactions, 0) as transactions
    from warehouse.dim_date as dim_date
    cross join bounds
    left join warehouse.agg_daily_sales as sales on sales.date_key = dim_date.date_key
    where dim_date.date_key between bounds.first_key and bounds.last_key
),

windowed as (
    select
        full_date,
        transactions,
        avg(transactions) over preceding_days as mean_before,
        stddev_samp(transactions) over preceding_days as sd_before,
        count(*) over preceding_days as days_before
    from daily
    window preceding_days as (
        order by full_date rows between {{ window }} preceding and 1 preceding
    )
),

flagged as (
    select
        *,
        days_before >= {{ window }}
        and abs(transactions - mean_before) > {{ sigmas }} * coalesce(sd_before, 0)
            as is_anomaly
    from windowed
)

select
    full_date,
    transactions,
    round(mean_before, 2) as mean_before,
    round(sd_before, 2) as sd_before,
    is_anomaly,
    full_date = (select max(full_date) from daily) as is_latest,
    (select count(*) from flagged where days_before >= {{ window }}) as days_checked,
    (select count(*) from flagged where is_anomaly) as anomalies_total
from flagged
where is_anomaly or full_date = (select max(full_date) from daily)
order by full_date desc
