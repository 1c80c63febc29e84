-- Item rows checked on their own: types, ranges, a known product, copies.
-- Whether the parent transaction survives is decided in transactions_validated (an
-- order is promoted whole or not at all) and applied in transaction_items_validated.
with source as (
    {{ include rows_to_process entity=transaction_items }}
),

valid_products as (
    -- Known products: valid in this run, or already in production from earlier runs.
    select product_id
    from staging.products_validated
    where disposition = 'promoted' and version_rank = 1
    union
    select product_id from production.products
),

held_products as (
    -- Products held in quarantine: their items wait for them (not orphans).
    select product_id from staging.products_validated where disposition = 'quarantined'
    union
    select trim(record_key) from ops.quarantine
    where entity = 'products' and released_at is null and record_key is not null
),

cleansed as (
    select
        -- Ids keep their spelling and case.
        nullif(trim(item_id), '') as item_id,
        nullif(trim(transaction_id), '') as transaction_id,
        nullif(trim(product_id), '') as product_id,
        try_cast(trim(quantity) as integer) as quantity,
        try_cast(trim(unit_price) as decimal(12, 4)) as unit_price,
        try_cast(trim(discount_percentage) as decimal(5, 2)) as discount_percentage,
        try_cast(trim(line_total) as decimal(14, 4)) as raw_line_total,
        trim(quantity) as raw_quantity,
        trim(unit_price) as raw_unit_price,
        trim(discount_percentage) as raw_discount_percentage,
        trim(line_total) as raw_line_total_text,
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
            when cleansed.item_id is null then 'missing_item_id'
            -- Any text is an id, except one with control characters (a damaged record).
            when regexp_matches(cleansed.item_id, '[[:cntrl:]]') then 'invalid_item_id'
            when cleansed.transaction_id is null then 'missing_transaction_id'
            when cleansed.product_id is null then 'missing_product_id'
            when cleansed.raw_quantity is null or cleansed.raw_quantity = ''
                then 'missing_quantity'
            -- Strictly written numbers only: 2.5, 0x10, 1e2 or 1_000 are not read as some
            -- other number; more decimals than the column keeps are not rounded away.
            when cleansed.quantity is null
                or not regexp_matches(cleansed.raw_quantity, '^[+-]?[0-9]+$')
                then 'unparseable_quantity'
            when cleansed.quantity < 1 then 'non_positive_quantity'
            when cleansed.raw_unit_price is null or cleansed.raw_unit_price = ''
                then 'missing_unit_price'
            when cleansed.unit_price is null
                or not regexp_matches(cleansed.raw_unit_price, '^[+-]?[0-9]*[.]?[0-9]+$')
                then 'unparseable_unit_price'
            when cleansed.unit_price <> try_cast(cleansed.raw_unit_price as decimal(38, 10))
                then 'invalid_unit_price'
            when cleansed.unit_price <= 0 then 'non_positive_unit_price'
            when cleansed.raw_discount_percentage is null or cleansed.raw_discount_percentage = ''
                then 'missing_discount_percentage'
            when cleansed.discount_percentage is null or not regexp_matches(
                cleansed.raw_discount_percentage, '^[+-]?[0-9]*[.]?[0-9]+$'
            )
                then 'unparseable_discount_percentage'
            when cleansed.discount_percentage
                <> try_cast(cleansed.raw_discount_percentage as decimal(38, 10))
                then 'invalid_discount_percentage'
            when cleansed.discount_percentage < 0 or cleansed.discount_percentage > 100
                then 'discount_out_of_range'
            -- line_total is recomputed (a wrong one is repaired), but a missing or
            -- unreadable one means the row itself is damaged.
            when cleansed.raw_line_total_text is null or cleansed.raw_line_total_text = ''
                then 'missing_line_total'
            when cleansed.raw_line_total is null
                or not regexp_matches(cleansed.raw_line_total_text, '^[+-]?[0-9]*[.]?[0-9]+$')
                then 'unparseable_line_total'
            when valid_products.product_id is null and held_products.product_id is not null
                then 'product_rejected'
            when valid_products.product_id is null then 'orphan_product_id'
        end as reject_reason
    from cleansed
    left join valid_products on cleansed.product_id = valid_products.product_id
left join held_products on cleansed.product_id = held_products.product_id
),

{{ include repeated_ids key=item_id }},

deduplicated as (
    select
        *,
        -- An exact copy of an earlier row is a duplicate; of two different rows with
        -- one id, the latest wins and the other is a duplicate too (items are append-only).
        row_number() over (
            partition by
                item_id, transaction_id, product_id, quantity, unit_price,
                discount_percentage, raw_line_total
            order by batch_id, source_line
        ) as copy_rank
    from checked
    where item_id in (select item_id from repeated_ids)
),

{{ include latest_of_id key=item_id }}

select
    item_id,
    transaction_id,
    product_id,
    quantity,
    unit_price,
    discount_percentage,
    raw_line_total,
    -- line_total as given (up to 4 decimals) when it agrees with the contract's formula
    -- within 0.01; otherwise it is provably wrong and recomputed by the formula.
    case
        when abs(raw_line_total - round(
            quantity * unit_price * (100 - discount_percentage) * 0.01, 2
        )) <= 0.01
            then raw_line_total
        else round(quantity * unit_price * (100 - discount_percentage) * 0.01, 2)
    end as line_total,
    batch_id,
    source_file,
    source_line,
    loaded_at,
    reject_reason,
    reject_reason is null and (copy_rank > 1 or id_rank > 1) as is_duplicate
from versioned
