-- Every product row of this run, typed and cleansed, with the first rule it breaks.
-- disposition and version_rank as in customers_validated.
with source as (
    {{ include batch_rows entity=products }}
),

trimmed as (
    -- Blank is absent: every optional field is NULL rather than an empty string.
    select
        nullif(trim(product_id), '') as product_id,
        nullif(trim(product_name), '') as product_name,
        nullif(trim(category), '') as raw_category,
        nullif(trim(sub_category), '') as sub_category,
        nullif(trim(price), '') as raw_price,
        nullif(trim(cost), '') as raw_cost,
        nullif(trim(brand), '') as brand,
        nullif(trim(stock_quantity), '') as raw_stock_quantity,
        nullif(trim(supplier_id), '') as supplier_id,
        -- 1 when any value lost padding (counted in transformation_summary.json).
        case when concat_ws(
            chr(31), product_id, product_name, category, sub_category, price, cost, brand,
            stock_quantity, supplier_id
        )
            <> concat_ws(
                chr(31), trim(product_id), trim(product_name), trim(category), trim(sub_category),
                trim(price), trim(cost), trim(brand), trim(stock_quantity), trim(supplier_id)
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
        trimmed.product_id,
        trimmed.product_name,
        -- Known categories in their canonical spelling; any other passes unchanged.
        coalesce(spellings.canonical, trimmed.raw_category) as category,
        trimmed.sub_category,
        try_cast(trimmed.raw_price as decimal(12, 2)) as price,
        try_cast(trimmed.raw_cost as decimal(12, 2)) as cost,
        trimmed.brand,
        try_cast(trimmed.raw_stock_quantity as integer) as stock_quantity,
        trimmed.supplier_id,
        trimmed.raw_category,
        trimmed.raw_price,
        trimmed.raw_cost,
        trimmed.raw_stock_quantity,
        trimmed.raw_category is not null and spellings.canonical is null as unknown_category,
        trimmed.repaired_padding,
        trimmed.batch_id,
        trimmed.source_file,
        trimmed.source_line,
        trimmed.loaded_at
    from trimmed
    {{ include canonical_spelling vocabulary=category value=trimmed.raw_category }}
),

checked as (
    select
        *,
        case
            when product_id is null then 'missing_product_id'
            -- Any text is an id, except one with control characters (a damaged record).
            when regexp_matches(product_id, '[[:cntrl:]]') then 'invalid_product_id'
            when product_name is null then 'missing_product_name'
            -- The category is optional (NULL, shown as unknown) like every other attribute.
            when raw_price is null then 'missing_price'
            -- Strictly written numbers only (no 1_000, 1e3, 0x10), never rounded away.
            when price is null or not regexp_matches(raw_price, '^[+-]?[0-9]*[.]?[0-9]+$')
                then 'unparseable_price'
            when price <> try_cast(raw_price as decimal(38, 10)) then 'invalid_price'
            when price <= 0 then 'non_positive_price'
            -- Cost and stock are optional; present, they must parse and lie in range.
            when raw_cost is not null
                and (cost is null or not regexp_matches(raw_cost, '^[+-]?[0-9]*[.]?[0-9]+$'))
                then 'unparseable_cost'
            when cost <> try_cast(raw_cost as decimal(38, 10)) then 'invalid_cost'
            when cost < 0 then 'negative_cost'
            when cost >= price then 'cost_not_below_price'
            when raw_stock_quantity is not null and (
                stock_quantity is null or not regexp_matches(raw_stock_quantity, '^[+-]?[0-9]+$')
            ) then 'unparseable_stock_quantity'
            when stock_quantity < 0 then 'negative_stock_quantity'
        end as reject_reason,
        case when category <> raw_category then 1 else 0 end as repaired_spelling
    from cleansed
),

{{ include repeated_ids key=product_id }},

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
    where product_id in (select product_id from repeated_ids)
),

{{ include latest_version key=product_id }}

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
    -- What cleansing changed, for the repair counts (transformation_summary.json).
    repaired_padding,
    repaired_spelling,
    unknown_category,
    reject_reason,
    disposition,
    version_rank
from ranked
