-- Items after their parent is decided: the items of a rejected transaction follow it.
with lines as (
    select * from staging.transaction_items_validated_lines
),

transactions as (
    select transaction_id, disposition
    from staging.transactions_validated
),

promoted_transactions as (
    select distinct transaction_id from transactions where disposition = 'promoted'
),

held_transactions as (
    -- Transactions held in quarantine: rejected in this run, or unparseable / rejected
    -- by an earlier one.
    select transaction_id from transactions where disposition = 'quarantined'
    union
    select trim(record_key) from ops.quarantine
    where entity = 'transactions' and released_at is null and record_key is not null
),

checked as (
    select
        lines.*,
        coalesce(
            lines.reject_reason,
            case
                when promoted_transactions.transaction_id is not null then null
                when held_transactions.transaction_id is not null
                    then 'parent_transaction_rejected'
                else 'orphan_transaction_id'
            end
        ) as final_reason,
        -- line_total as given (up to 4 decimals) when it agrees with the contract's formula
        -- within 0.01; otherwise it is provably wrong and recomputed by the formula.
        case
            when abs(lines.raw_line_total - round(
                lines.quantity * lines.unit_price * (100 - lines.discount_percentage) * 0.01, 2
            )) <= 0.01
                then lines.raw_line_total
            else round(
                lines.quantity * lines.unit_price * (100 - lines.discount_percentage) * 0.01, 2
            )
        end as line_total
    from lines
    left join promoted_transactions
        on lines.transaction_id = promoted_transactions.transaction_id
    left join held_transactions on lines.transaction_id = held_transactions.transaction_id
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
