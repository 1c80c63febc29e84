-- Every customer row of this run, typed and cleansed, with the first rule it breaks.
-- disposition: `quarantined` (reject_reason says why), `duplicate` (an exact copy of an
-- earlier row, removed) or `promoted`; version_rank = 1 marks the latest promoted
-- version of each customer, the one production keeps.
with source as (
    {{ include batch_rows entity=customers }}
),

trimmed as (
    -- Blank is absent: every optional field is NULL rather than an empty string.
    select
        nullif(trim(customer_id), '') as customer_id,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        nullif(trim(email), '') as email,
        nullif(trim(phone), '') as raw_phone,
        nullif(trim(registration_date), '') as raw_registration_date,
        nullif(trim(city), '') as city,
        nullif(trim(state), '') as state,
        nullif(trim(country), '') as country,
        nullif(trim(age_group), '') as raw_age_group,
        -- 1 when any value lost padding (counted in transformation_summary.json).
        case when concat_ws(
            chr(31), customer_id, first_name, last_name, email, phone, registration_date, city,
            state, country, age_group
        )
            <> concat_ws(
                chr(31), trim(customer_id), trim(first_name), trim(last_name), trim(email), trim(phone),
                trim(registration_date), trim(city), trim(state), trim(country), trim(age_group)
            )
            then 1 else 0 end as repaired_padding,
        batch_id,
        source_file,
        source_line,
        loaded_at
    from source
),

cleansed as (
    select
        -- Ids, cities, states and countries keep their spelling and case.
        trimmed.customer_id,
        -- A name is re-cased only when it is entirely upper or lower case (initcap:
        -- o'donnell -> O'Donnell, mary-jane -> Mary-Jane); MacDonald stays MacDonald.
        case
            when trimmed.first_name in (upper(trimmed.first_name), lower(trimmed.first_name))
                then initcap(trimmed.first_name)
            else trimmed.first_name
        end as first_name,
        case
            when trimmed.last_name in (upper(trimmed.last_name), lower(trimmed.last_name))
                then initcap(trimmed.last_name)
            else trimmed.last_name
        end as last_name,
        lower(trimmed.email) as email,
        -- Digits only: punctuation in phone numbers is repaired, not rejected.
        regexp_replace(trimmed.raw_phone, '[^0-9]', '', 'g') as phone,
        try_cast(trimmed.raw_registration_date as date) as registration_date,
        trimmed.city,
        trimmed.state,
        trimmed.country,
        -- Known age groups in their canonical spelling; any other passes unchanged.
        coalesce(spellings.canonical, trimmed.raw_age_group) as age_group,
        trimmed.first_name as raw_first_name,
        trimmed.last_name as raw_last_name,
        trimmed.email as raw_email,
        trimmed.raw_phone,
        trimmed.raw_registration_date,
        trimmed.raw_age_group,
        trimmed.raw_age_group is not null and spellings.canonical is null as unknown_age_group,
        trimmed.repaired_padding,
        trimmed.batch_id,
        trimmed.source_file,
        trimmed.source_line,
        trimmed.loaded_at
    from trimmed
    {{ include canonical_spelling vocabulary=age_group value=trimmed.raw_age_group }}
),

checked as (
    select
        *,
        case
            when customer_id is null then 'missing_customer_id'
            -- Any text is an id, except one with control characters (a damaged record).
            when regexp_matches(customer_id, '[[:cntrl:]]') then 'invalid_customer_id'
            when first_name is null then 'missing_first_name'
            -- A one-word name (张伟, a mononym) has no last name: it is optional.
            -- Email, phone, registration date and age group are optional; present,
            -- they must be well formed.
            when email is not null and not regexp_matches(
                email, '^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$'
            ) then 'invalid_email'
            -- A phone is digits and punctuation, 7-15 digits.
            when raw_phone is not null and (
                not regexp_matches(raw_phone, '^[0-9 ()+.-]+$')
                or length(phone) < 7 or length(phone) > 15
            ) then 'invalid_phone'
            -- YYYY-MM-DD (no epoch, infinity or time) from vocabulary.earliest_date to
            -- today + vocabulary.days_after_today (default 1: tomorrow).
            when raw_registration_date is not null and (
                registration_date is null
                or not regexp_matches(raw_registration_date, '^[0-9]{4}-[0-9]{2}-[0-9]{2}$')
            ) then 'unparseable_registration_date'
            when registration_date < (select earliest_date from ops.date_window)
                then 'invalid_registration_date'
            when registration_date
                > current_date + (select days_after_today from ops.date_window)
                then 'future_registration_date'
        end as reject_reason,
        case when first_name <> raw_first_name then 1 else 0 end
        + case when last_name <> raw_last_name then 1 else 0 end as repaired_name_case,
        case when email <> raw_email then 1 else 0 end as repaired_email_case,
        case when phone <> raw_phone then 1 else 0 end as repaired_phone,
        case when age_group <> raw_age_group then 1 else 0 end as repaired_spelling
    from cleansed
),

{{ include repeated_ids key=customer_id }},

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
    where customer_id in (select customer_id from repeated_ids)
),

{{ include latest_version key=customer_id }},

email_holders as (
    -- Who holds each email once this run is merged: this run's latest versions, and
    -- the production customers this run leaves unchanged (they keep their email).
    -- Blank emails belong to nobody: customers without one are not duplicates.
    select customer_id, email, 0 as from_production
    from ranked
    where disposition = 'promoted' and version_rank = 1 and email is not null
    union all
    -- Only emails this run's latest versions use can decide an owner (no sort of every
    -- production customer per batch).
    select customer_id, email, 1 as from_production
    from production.customers
    where email in (
        select email from ranked where disposition = 'promoted' and version_rank = 1
    )
        and customer_id not in (
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
    -- What cleansing changed, for the repair counts (transformation_summary.json).
    repaired_padding,
    repaired_name_case,
    repaired_email_case,
    repaired_phone,
    repaired_spelling,
    unknown_age_group,
    final_reason as reject_reason,
    case when final_reason is null then disposition else 'quarantined' end as disposition,
    version_rank
from final
