-- Every staged transaction row, typed and cleansed, with the first rule it breaks.
-- A transaction needs a known customer (already in production or valid in this load),
-- a date on or after that customer's registration, and at least one valid item.
with source as (
    -- Only the batches this run processes (ops.run_batches, written by ingest).
    select * from staging.transactions
    where batch_id in (select batch_id from ops.run_batches)
),

valid_customers as (
    -- Known customers: valid in this run, or already in production from earlier runs.
    select customer_id, registration_date
    from staging.customers_validated
    where reject_reason is null and version_rank = 1
    union all
    select customer_id, registration_date
    from production.customers
    where customer_id not in (
        select customer_id from staging.customers_validated
        where reject_reason is null and version_rank = 1
    )
),

valid_item_parents as (
    select distinct transaction_id
    from staging.transaction_items_validated_lines
    where reject_reason is null
),

cleansed as (
    select
        upper(trim(transaction_id)) as transaction_id,
        upper(trim(customer_id)) as customer_id,
        try_cast(trim(transaction_date) as date) as transaction_date,
        trim(transaction_time) as transaction_time,
        case lower(trim(payment_method))
            when 'credit card' then 'Credit Card'
            when 'debit card' then 'Debit Card'
            when 'upi' then 'UPI'
            when 'cash on delivery' then 'Cash on Delivery'
            when 'net banking' then 'Net Banking'
            else trim(payment_method)
        end as payment_method,
        trim(shipping_address) as shipping_address,
        try_cast(trim(total_amount) as decimal(14, 2)) as total_amount,
        batch_id,
        source_file,
        source_line,
        loaded_at
    from source
),

checked as (
    select
        cleansed.*,
        case
            when cleansed.transaction_id is null or cleansed.transaction_id = ''
                then 'missing_transaction_id'
            when not regexp_matches(cleansed.transaction_id, '^TXN[0-9]+$')
                then 'invalid_transaction_id'
            when cleansed.transaction_date is null then 'unparseable_transaction_date'
            when cleansed.transaction_date > current_date then 'future_transaction_date'
            when cleansed.transaction_time is null
                or not regexp_matches(cleansed.transaction_time, '^[0-2][0-9]:[0-5][0-9]:[0-5][0-9]$')
                then 'invalid_transaction_time'
            when cleansed.payment_method not in (
                'Credit Card', 'Debit Card', 'UPI', 'Cash on Delivery', 'Net Banking'
            ) or cleansed.payment_method is null then 'invalid_payment_method'
            when valid_customers.customer_id is null then 'orphan_customer_id'
            when cleansed.transaction_date < valid_customers.registration_date
                then 'transaction_before_registration'
            when valid_item_parents.transaction_id is null then 'no_valid_items'
        end as reject_reason
    from cleansed
    left join valid_customers on cleansed.customer_id = valid_customers.customer_id
    left join valid_item_parents on cleansed.transaction_id = valid_item_parents.transaction_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by transaction_id, reject_reason is null
            order by batch_id desc, source_line desc
        ) as version_rank
    from checked
)

select * from ranked
