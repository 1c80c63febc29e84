-- The CTE `versioned` of an append-only entity (transactions, items): the rows of the CTE
-- `deduplicated` (those whose id is in repeated_ids, with reject_reason and copy_rank)
-- ranked per id, and the other rows of the CTE `checked` as first copy and latest
-- version. id_rank = 1 marks the latest of the valid rows that share an id.
-- key: the entity's id column.
versioned as (
    select
        *,
        -- Of two different rows with one id, the latest wins.
        row_number() over (
            partition by {{ key }}, reject_reason is null and copy_rank = 1
            order by batch_id desc, source_line desc
        ) as id_rank
    from deduplicated
    union all
    -- An id no other row has, or none (rejected as missing_{{ key }}): nothing to rank.
    select *, 1 as copy_rank, 1 as id_rank
    from checked
    where {{ key }} is null or {{ key }} not in (select {{ key }} from repeated_ids)
)
