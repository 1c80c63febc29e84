-- Every staged product row, typed and cleansed, with the first rule it breaks.
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
            when category not in (
                'Electronics', 'Clothing', 'Home & Kitchen', 'Books', 'Sports', 'Beauty'
            ) or category is null then 'invalid_category'
            when price is null then 'invalid_price'
            when price <= 0 then 'non_positive_price'
            when cost is null then 'invalid_cost'
            when cost >= price then 'cost_not_below_price'
            when stock_quantity is null or stock_quantity < 0 then 'invalid_stock_quantity'
        end as reject_reason
    from cleansed
),

ranked as (
    select
        *,
        row_number() over (
            partition by product_id, reject_reason is null
            order by batch_id desc, source_line desc
        ) as version_rank
    from checked
)

select * from ranked
