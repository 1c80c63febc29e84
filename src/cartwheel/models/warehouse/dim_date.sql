-- One row per calendar day over the sales range (the registrations' range while nothing
-- is sold yet): one customer registered decades ago does not make a century of days.
with date_bounds as (
    select
        coalesce(
            (select min(transaction_date) from production.transactions),
            (select min(registration_date) from production.customers)
        ) as min_date,
        coalesce(
            (select max(transaction_date) from production.transactions),
            (select max(registration_date) from production.customers)
        ) as max_date
),

spine as (
    {{ date_spine }}
),

parts as (
    select
        full_date,
        cast(extract(year from full_date) as integer) as year,
        cast(extract(quarter from full_date) as integer) as quarter,
        cast(extract(month from full_date) as integer) as month,
        cast(extract(day from full_date) as integer) as day,
        cast(extract(isodow from full_date) as integer) as iso_day_of_week,
        cast(extract(week from full_date) as integer) as week_of_year
    from spine
)

select
    year * 10000 + month * 100 + day as date_key,
    full_date,
    year,
    quarter,
    month,
    day,
    case month
        when 1 then 'January' when 2 then 'February' when 3 then 'March'
        when 4 then 'April' when 5 then 'May' when 6 then 'June'
        when 7 then 'July' when 8 then 'August' when 9 then 'September'
        when 10 then 'October' when 11 then 'November' else 'December'
    end as month_name,
    case iso_day_of_week
        when 1 then 'Monday' when 2 then 'Tuesday' when 3 then 'Wednesday'
        when 4 then 'Thursday' when 5 then 'Friday' when 6 then 'Saturday' else 'Sunday'
    end as day_name,
    week_of_year,
    iso_day_of_week >= 6 as is_weekend,
    -- US federal holidays that move shopping: fixed dates plus Memorial Day (last Monday
    -- of May), Labor Day (first Monday of September) and Thanksgiving (4th Thursday of Nov).
    (month = 1 and day = 1)
    or (month = 7 and day = 4)
    or (month = 12 and day = 25)
    or (month = 5 and iso_day_of_week = 1 and day >= 25)
    or (month = 9 and iso_day_of_week = 1 and day <= 7)
    or (month = 11 and iso_day_of_week = 4 and day between 22 and 28) as is_holiday
from parts
