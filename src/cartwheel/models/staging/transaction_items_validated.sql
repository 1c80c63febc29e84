-- Items after their parent is decided: the items of a rejected transaction follow it.
with lines as (
    select * from staging.transaction_items_validated_lines
),

valid_transactions as (
    select transaction_id
    from staging.transactions_validated
    where reject_reason is null and version_rank = 1
),

checked as (
    select
        lines.* exclude (reject_reason),
        coalesce(
            lines.reject_reason,
            case when valid_transactions.transaction_id is null then 'orphan_transaction_id' end
        ) as reject_reason,
        -- line_total is recomputed from its parts (repairable): the contract's formula.
        round(lines.quantity * lines.unit_price * (100 - lines.discount_percentage) * 0.01, 2)
            as line_total
    from lines
    left join valid_transactions on lines.transaction_id = valid_transactions.transaction_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by item_id, reject_reason is null
            order by batch_id desc, source_line desc
        ) as version_rank
    from checked
)

select * from ranked
