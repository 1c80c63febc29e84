-- Items after their parent is decided: the items of a rejected transaction follow it.
with lines as (
    select * from staging.transaction_items_validated_lines
),

transactions as (
    select transaction_id, disposition
    from staging.transactions_validated
),

parents as (
    -- Per transaction id: promoted in this run, or held in quarantine (rejected in this
    -- run, or unparseable / rejected by an earlier one). One row per id: one join.
    select
        transaction_id,
        max(case when disposition = 'promoted' then 1 else 0 end) as promoted,
        max(case when disposition = 'quarantined' then 1 else 0 end) as held
    from (
        select transaction_id, disposition from transactions
        where disposition in ('promoted', 'quarantined')
        union all
        select trim(record_key), 'quarantined' from ops.quarantine
        where entity = 'transactions' and released_at is null and record_key is not null
    ) as decided
    group by transaction_id
),

checked as (
    select
        lines.*,
        coalesce(
            lines.reject_reason,
            case
                when parents.promoted = 1 then null
                when parents.held = 1 then 'parent_transaction_rejected'
                else 'orphan_transaction_id'
            end
        ) as final_reason
    from lines
    left join parents on lines.transaction_id = parents.transaction_id
),

disposed as (
    select
        *,
        case
            when final_reason is not null then 'quarantined'
            when is_duplicate then 'duplicate'
            else 'promoted'
        end as disposition
    from checked
)

select
    item_id,
    transaction_id,
    product_id,
    quantity,
    unit_price,
    discount_percentage,
    raw_line_total,
    line_total,
    batch_id,
    source_file,
    source_line,
    loaded_at,
    final_reason as reject_reason,
    disposition,
    case when disposition = 'promoted' then 1 else 2 end as version_rank
from disposed
