-- Item rows checked on their own: types, ranges and a known product.
-- Whether the parent transaction survives is decided in transaction_items_validated.
with source as (
    -- Only the batches this run processes (ops.run_batches, written by ingest).
    select * from staging.transaction_items
    where batch_id in (select batch_id from ops.run_batches)
),

valid_products as (
    -- Known products: valid in this run, or already in production from earlier runs.
    select product_id
    from staging.products_validated
    where reject_reason is null and version_rank = 1
    union
    select product_id from production.products
),

cleansed as (
    select
        upper(trim(item_id)) as item_id,
        upper(trim(transaction_id)) as transaction_id,
        upper(trim(product_id)) as product_id,
        try_cast(trim(quantity) as integer) as quantity,
        try_cast(trim(unit_price) as decimal(12, 2)) as unit_price,
        try_cast(trim(discount_percentage) as decimal(5, 2)) as discount_percentage,
        try_cast(trim(line_total) as decimal(14, 2)) as raw_line_total,
        batch_id,
        source_file,
        source_line,
        loaded_at
    from source
)

select
    cleansed.*,
    case
        when cleansed.item_id is null or cleansed.item_id = '' then 'missing_item_id'
        when not regexp_matches(cleansed.item_id, '^ITEM[0-9]+$') then 'invalid_item_id'
        when cleansed.transaction_id is null or cleansed.transaction_id = ''
            then 'missing_transaction_id'
        when cleansed.quantity is null then 'invalid_quantity'
        when cleansed.quantity < 1 then 'non_positive_quantity'
        when cleansed.unit_price is null then 'invalid_unit_price'
        when cleansed.unit_price <= 0 then 'non_positive_unit_price'
        when cleansed.discount_percentage is null then 'invalid_discount'
        when cleansed.discount_percentage < 0 or cleansed.discount_percentage > 100
            then 'discount_out_of_range'
        when valid_products.product_id is null then 'orphan_product_id'
    end as reject_reason
from cleansed
left join valid_products on cleansed.product_id = valid_products.product_id
