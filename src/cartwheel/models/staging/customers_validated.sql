-- Every staged customer row, typed and cleansed, with the first rule it breaks.
-- Rows with a reject_reason go to quarantine; the latest valid row per id is promoted.
with source as (
    -- Only the batches this run processes (ops.run_batches, written by ingest).
    select * from staging.customers
    where batch_id in (select batch_id from ops.run_batches)
),

cleansed as (
    select
        upper(trim(customer_id)) as customer_id,
        -- Title case for single-word names; the raw value stays in staging.
        upper(substr(trim(first_name), 1, 1)) || lower(substr(trim(first_name), 2)) as first_name,
        upper(substr(trim(last_name), 1, 1)) || lower(substr(trim(last_name), 2)) as last_name,
        lower(trim(email)) as email,
        regexp_replace(phone, '[^0-9]', '', 'g') as phone,
        try_cast(trim(registration_date) as date) as registration_date,
        trim(city) as city,
        upper(trim(state)) as state,
        trim(country) as country,
        trim(age_group) as age_group,
        registration_date as raw_registration_date,
        batch_id,
        source_file,
        source_line,
        loaded_at
    from source
),

checked as (
    select
        *,
        case
            when customer_id is null or customer_id = '' then 'missing_customer_id'
            when not regexp_matches(customer_id, '^CUST[0-9]+$') then 'invalid_customer_id'
            when first_name is null or first_name = '' then 'missing_first_name'
            when last_name is null or last_name = '' then 'missing_last_name'
            when email is null or email = '' then 'missing_email'
            when not regexp_matches(email, '^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$')
                then 'invalid_email'
            when phone is not null and length(phone) not between 7 and 15 then 'invalid_phone'
            when raw_registration_date is null then 'missing_registration_date'
            when registration_date is null then 'unparseable_registration_date'
            when registration_date > current_date then 'future_registration_date'
            when age_group not in ('18-25', '26-35', '36-45', '46-60', '60+')
                then 'invalid_age_group'
        end as reject_reason
    from cleansed
),

ranked as (
    select
        *,
        -- The latest version of a customer wins: later batch, then later line.
        row_number() over (
            partition by customer_id, reject_reason is null
            order by batch_id desc, source_line desc
        ) as version_rank
    from checked
)

select * exclude (raw_registration_date) from ranked
