-- Every customer row of this run, typed and cleansed, with the first rule it breaks.
-- disposition: `quarantined` (reject_reason says why), `duplicate` (an exact copy of an
-- earlier row, removed) or `promoted`; version_rank = 1 marks the latest promoted
-- version of each customer, the one production keeps.
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
        -- Digits only: punctuation in phone numbers is repaired, not rejected.
        regexp_replace(trim(phone), '[^0-9]', '', 'g') as phone,
        try_cast(trim(registration_date) as date) as registration_date,
        trim(city) as city,
        trim(state) as state,
        trim(country) as country,
        trim(age_group) as age_group,
        trim(phone) as raw_phone,
        trim(registration_date) as raw_registration_date,
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
            when not regexp_matches(email, '^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$')
                then 'invalid_email'
            -- A phone may be absent; present, it is digits and punctuation, 7-15 digits.
            when raw_phone is not null and raw_phone <> '' and (
                not regexp_matches(raw_phone, '^[0-9 ()+.-]+$')
                or length(phone) < 7 or length(phone) > 15
            ) then 'invalid_phone'
            when raw_registration_date is null or raw_registration_date = ''
                then 'missing_registration_date'
            -- YYYY-MM-DD within 1900-01-01 up to today (see transactions_validated).
            when registration_date is null or not regexp_matches(raw_registration_date, '^[0-9]{4}-[0-9]{2}-[0-9]{2}$')
                then 'unparseable_registration_date'
            when registration_date < date '1900-01-01' then 'invalid_registration_date'
            when registration_date > current_date then 'future_registration_date'
            when age_group is null or age_group = '' then 'missing_age_group'
            when age_group not in ('18-25', '26-35', '36-45', '46-60', '60+')
                then 'invalid_age_group'
        end as reject_reason
    from cleansed
),

deduplicated as (
    select
        *,
        -- An exact copy of an earlier row (after cleansing) is a duplicate: first one wins.
        row_number() over (
            partition by
                customer_id, first_name, last_name, email, phone, registration_date,
                city, state, country, age_group
            order by batch_id, source_line
        ) as copy_rank
    from checked
),

disposed as (
    select
        *,
        case
            when reject_reason is not null then 'quarantined'
            when copy_rank > 1 then 'duplicate'
            else 'promoted'
        end as disposition
    from deduplicated
),

ranked as (
    select
        *,
        -- Distinct versions of a customer are all valid; the latest one wins.
        -- Only promoted rows have a version rank (1 = latest): production takes
        -- `reject_reason is null and version_rank = 1`, never a removed duplicate.
        case when disposition = 'promoted' then row_number() over (
            partition by customer_id, disposition
            order by batch_id desc, source_line desc
        ) end as version_rank
    from disposed
),

email_holders as (
    -- Who holds each email once this run is merged: this run's latest versions, and
    -- the production customers this run leaves unchanged (they keep their email).
    select customer_id, email, 0 as from_production
    from ranked
    where disposition = 'promoted' and version_rank = 1
    union all
    select customer_id, email, 1 as from_production
    from production.customers
    where customer_id not in (
        select customer_id from ranked where disposition = 'promoted' and version_rank = 1
    )
),

email_owners as (
    select email, customer_id as owner
    from (
        select
            email,
            customer_id,
            row_number() over (
                partition by email order by from_production desc, customer_id
            ) as holder_rank
        from email_holders
    ) as holders
    where holder_rank = 1
),

final as (
    select
        ranked.*,
        -- Emails are unique: a second customer with a taken email is held back.
        case
            when ranked.disposition = 'promoted' and ranked.version_rank = 1
                and email_owners.owner <> ranked.customer_id
                then 'duplicate_email'
            else ranked.reject_reason
        end as final_reason
    from ranked
    left join email_owners on ranked.email = email_owners.email
)

select
    customer_id,
    first_name,
    last_name,
    email,
    phone,
    registration_date,
    city,
    state,
    country,
    age_group,
    batch_id,
    source_file,
    source_line,
    loaded_at,
    final_reason as reject_reason,
    case when final_reason is null then disposition else 'quarantined' end as disposition,
    version_rank
from final
