-- Every transaction row of this run, typed and cleansed, with the first rule it breaks.
-- A transaction needs a known customer (already in production or valid in this load),
-- a date on or after that customer's registration, at least one item, and no rejected
-- item: an order is promoted whole or not at all, so totals are never silently partial.
with source as (
    {{ include rows_to_process entity=transactions }}
),

run_customers as (
    select customer_id, registration_date
    from staging.customers_validated
    where disposition = 'promoted' and version_rank = 1
),

valid_customers as (
    -- Known customers: valid in this run, or already in production from earlier runs.
    select customer_id, registration_date from run_customers
    union all
    select customer_id, registration_date
    from production.customers
    where customer_id not in (select customer_id from run_customers)
),

held_customers as (
    -- Customers held in quarantine (this run's, or unparseable / rejected earlier): a
    -- transaction of theirs waits for them instead of counting as an orphan.
    select customer_id from staging.customers_validated where disposition = 'quarantined'
    union
    select trim(record_key) from ops.quarantine
    where entity = 'customers' and released_at is null and record_key is not null
),

stored_earlier as (
    -- Ids an earlier batch already stored: transactions are append-only, so a row that
    -- re-sends one is quarantined (it is neither stored nor counted as promoted).
    select transaction_id from production.transactions
    where transaction_id in (
        select trim(transaction_id) from staging.transactions
        where batch_id not in (select batch_id from ops.run_batches)
    )
),

item_lines as (
    select * from staging.transaction_items_validated_lines
    where not is_duplicate
),

item_status as (
    select
        transaction_id,
        count(*) as items,
        sum(case when reject_reason is null then 0 else 1 end) as rejected_items,
        -- An order is promoted only with all its lines valid, and its items follow it:
        -- for a promoted order this is the sum of its promoted line totals.
        sum(line_total) as items_total
    from item_lines
    group by transaction_id
),

unparsed_item_lines as (
    -- Item lines of this run's batches that the reader could not parse (quarantined at
    -- ingest): their fields are unknown, so an order is held back when one of them names
    -- its id as a whole field (an order is never promoted without a line of its own).
    select ',' || replace(raw_content, '"', '') || ',' as fields
    from ops.quarantine
    where entity = 'transaction_items' and stage = 'ingest' and released_at is null
        and batch_id in (select batch_id from ops.run_batches)
),

trimmed as (
    -- Blank is absent: every optional field is NULL rather than an empty string.
    select
        nullif(trim(transaction_id), '') as transaction_id,
        nullif(trim(customer_id), '') as customer_id,
        nullif(trim(transaction_date), '') as raw_transaction_date,
        nullif(trim(transaction_time), '') as transaction_time,
        nullif(trim(payment_method), '') as raw_payment_method,
        nullif(trim(shipping_address), '') as shipping_address,
        nullif(trim(shipping_city), '') as shipping_city,
        nullif(trim(shipping_state), '') as shipping_state,
        nullif(trim(shipping_postal_code), '') as shipping_postal_code,
        nullif(trim(shipping_country), '') as shipping_country,
        nullif(trim(total_amount), '') as raw_total_amount_text,
        -- 1 when any value lost padding (counted in transformation_summary.json).
        case when concat_ws(
            chr(31), transaction_id, customer_id, transaction_date, transaction_time,
            payment_method, shipping_address, total_amount
        )
            <> concat_ws(
                chr(31), trim(transaction_id), trim(customer_id), trim(transaction_date),
                trim(transaction_time), trim(payment_method), trim(shipping_address), trim(total_amount)
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
        -- Ids keep their spelling and case.
        trimmed.transaction_id,
        trimmed.customer_id,
        try_cast(trimmed.raw_transaction_date as date) as transaction_date,
        trimmed.transaction_time,
        -- Known payment methods in their canonical spelling; any other passes unchanged.
        coalesce(spellings.canonical, trimmed.raw_payment_method) as payment_method,
        trimmed.shipping_address,
        trimmed.shipping_city,
        trimmed.shipping_state,
        trimmed.shipping_postal_code,
        trimmed.shipping_country,
        try_cast(trimmed.raw_total_amount_text as decimal(16, 4)) as raw_total_amount,
        trimmed.raw_transaction_date,
        trimmed.raw_total_amount_text,
        trimmed.raw_payment_method,
        trimmed.raw_payment_method is not null and spellings.canonical is null
            as unknown_payment_method,
        trimmed.repaired_padding,
        trimmed.batch_id,
        trimmed.source_file,
        trimmed.source_line,
        trimmed.loaded_at
    from trimmed
    {{ include canonical_spelling vocabulary=payment_method value=trimmed.raw_payment_method }}
),

checked as (
    select
        cleansed.*,
        case
            when cleansed.transaction_id is null then 'missing_transaction_id'
            -- Any text is an id, except one with control characters (a damaged record).
            when regexp_matches(cleansed.transaction_id, '[[:cntrl:]]')
                then 'invalid_transaction_id'
            when cleansed.customer_id is null then 'missing_customer_id'
            when cleansed.raw_transaction_date is null then 'missing_transaction_date'
            -- A date is YYYY-MM-DD (no epoch, infinity, time or time-zone offset dropped)
            -- within the sane window: vocabulary.earliest_date (default 1900-01-01) up to
            -- today + vocabulary.days_after_today (default 1; future dates just below).
            when cleansed.transaction_date is null
                or not regexp_matches(cleansed.raw_transaction_date, '^[0-9]{4}-[0-9]{2}-[0-9]{2}$')
                then 'unparseable_transaction_date'
            when cleansed.transaction_date < (select earliest_date from ops.date_window)
                then 'invalid_transaction_date'
            when cleansed.transaction_date
                > current_date + (select days_after_today from ops.date_window)
                then 'future_transaction_date'
            -- The time and the payment method are optional; a time present is HH:MM:SS.
            when not regexp_matches(
                cleansed.transaction_time, '^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$'
            ) then 'invalid_transaction_time'
            -- total_amount is reconciled with the items (a wrong one is repaired), but a
            -- missing or unreadable one means the row itself is damaged.
            when cleansed.raw_total_amount_text is null then 'missing_total_amount'
            when cleansed.raw_total_amount is null
                or not regexp_matches(cleansed.raw_total_amount_text, '^[+-]?[0-9]*[.]?[0-9]+$')
                then 'unparseable_total_amount'
            when valid_customers.customer_id is null and held_customers.customer_id is not null
                then 'customer_rejected'
            when valid_customers.customer_id is null then 'orphan_customer_id'
            when cleansed.transaction_date < valid_customers.registration_date
                then 'transaction_before_registration'
            when item_status.transaction_id is null then 'no_items'
            when item_status.rejected_items > 0 then 'rejected_items'
            when exists (
                select 1 from unparsed_item_lines
                where position(',' || cleansed.transaction_id || ',' in fields) > 0
            ) then 'rejected_items'
            when stored_earlier.transaction_id is not null then 'duplicate_of_earlier_batch'
        end as reject_reason,
        case when cleansed.payment_method <> cleansed.raw_payment_method then 1 else 0 end
            as repaired_spelling,
        item_status.items_total
    from cleansed
    left join valid_customers on cleansed.customer_id = valid_customers.customer_id
    left join item_status on cleansed.transaction_id = item_status.transaction_id
    left join held_customers on cleansed.customer_id = held_customers.customer_id
    left join stored_earlier on cleansed.transaction_id = stored_earlier.transaction_id
),

{{ include repeated_ids key=transaction_id }},

deduplicated as (
    select
        *,
        row_number() over (
            partition by
                transaction_id, customer_id, transaction_date, transaction_time,
                payment_method, shipping_address, raw_total_amount,
                shipping_city, shipping_state, shipping_postal_code, shipping_country
            order by batch_id, source_line
        ) as copy_rank
    from checked
    where transaction_id in (select transaction_id from repeated_ids)
),

{{ include latest_of_id key=transaction_id }},

disposed as (
    select
        *,
        case
            when reject_reason is not null then 'quarantined'
            -- Transactions are append-only: a second row with the same id is removed.
            when copy_rank > 1 or id_rank > 1 then 'duplicate'
            else 'promoted'
        end as disposition
    from versioned
)

select
    transaction_id,
    customer_id,
    transaction_date,
    transaction_time,
    payment_method,
    shipping_address,
    raw_total_amount,
    -- The sum of the promoted order's item line totals (its reconciled total_amount),
    -- computed once here for production, the repair counts and the quality checks.
    case when disposition = 'promoted' then items_total end as items_total,
    shipping_city,
    shipping_state,
    shipping_postal_code,
    shipping_country,
    batch_id,
    source_file,
    source_line,
    loaded_at,
    -- What cleansing changed, for the repair counts (transformation_summary.json).
    repaired_padding,
    repaired_spelling,
    unknown_payment_method,
    reject_reason,
    disposition,
    case when disposition = 'promoted' then 1 else 2 end as version_rank
from disposed
