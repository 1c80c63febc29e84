-- Every product row of this run, typed and cleansed, with the first rule it breaks.
-- disposition and version_rank as in customers_validated.
with source as (
    -- Only the batches this run processes (ops.run_batches, written by ingest).
    select * from staging.products
    where batch_id in (select batch_id from ops.run_batches)
),

cleansed as (
    select
        upper(trim(product_id)) as product_id,
        trim(product_name) as product_name,
        -- Canonical spellings: exports mis-case and pad category names.
        case lower(trim(category))
            when 'electronics' then 'Electronics'
            when 'clothing' then 'Clothing'
            when 'home & kitchen' then 'Home & Kitchen'
            when 'books' then 'Books'
            when 'sports' then 'Sports'
            when 'beauty' then 'Beauty'
            else trim(category)
        end as category,
        trim(sub_category) as sub_category,
        try_cast(trim(price) as decimal(12, 2)) as price,
        try_cast(trim(cost) as decimal(12, 2)) as cost,
        trim(brand) as brand,
        try_cast(trim(stock_quantity) as integer) as stock_quantity,
        upper(trim(supplier_id)) as supplier_id,
        trim(price) as raw_price,
        trim(cost) as raw_cost,
        trim(stock_quantity) as raw_stock_quantity,
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
            when product_id is null or product_id = '' then 'missing_product_id'
            when not regexp_matches(product_id, '^PROD[0-9]+$') then 'invalid_product_id'
            when product_name is null or product_name = '' then 'missing_product_name'
            when category is null or category = '' then 'missing_category'
            when category not in (
                'Electronics', 'Clothing', 'Home & Kitchen', 'Books', 'Sports', 'Beauty'
            ) then 'invalid_category'
            when raw_price is null or raw_price = '' then 'missing_price'
            -- Strictly written numbers only (no 1_000, 1e3, 0x10), never rounded away.
            when price is null or not regexp_matches(raw_price, '^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)$') then 'unparseable_price'
            when price <> try_cast(raw_price as decimal(38, 10)) then 'invalid_price'
            when price <= 0 then 'non_positive_price'
            when raw_cost is null or raw_cost = '' then 'missing_cost'
            when cost is null or not regexp_matches(raw_cost, '^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)$') then 'unparseable_cost'
            when cost <> try_cast(raw_cost as decimal(38, 10)) then 'invalid_cost'
            when cost < 0 then 'negative_cost'
            when cost >= price then 'cost_not_below_price'
            when raw_stock_quantity is null or raw_stock_quantity = ''
                then 'missing_stock_quantity'
            when stock_quantity is null or not regexp_matches(raw_stock_quantity, '^[+-]?[0-9]+$')
                then 'unparseable_stock_quantity'
            when stock_quantity < 0 then 'negative_stock_quantity'
        end as reject_reason
    from cleansed
),

deduplicated as (
    select
        *,
        row_number() over (
            partition by
                product_id, product_name, category, sub_category, price, cost, brand,
                stock_quantity, supplier_id
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
        -- Only promoted rows have a version rank (1 = latest): production takes
        -- `reject_reason is null and version_rank = 1`, never a removed duplicate.
        case when disposition = 'promoted' then row_number() over (
            partition by product_id, disposition
            order by batch_id desc, source_line desc
        ) end as version_rank
    from disposed
)

select
    product_id,
    product_name,
    category,
    sub_category,
    price,
    cost,
    brand,
    stock_quantity,
    supplier_id,
    batch_id,
    source_file,
    source_line,
    loaded_at,
    reject_reason,
    disposition,
    version_rank
from ranked
