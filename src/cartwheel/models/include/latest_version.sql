-- The CTEs `disposed` and `ranked` of an entity that keeps versions (customers,
-- products), over the CTE `deduplicated` (the rows of the CTE `checked` whose key is in
-- repeated_ids, with reject_reason and copy_rank); the other rows of `checked` are their
-- key's only row: first copy and latest version, nothing to rank.
-- disposition: `quarantined` (reject_reason says why), `duplicate` (an exact copy of an
-- earlier row, removed) or `promoted`; version_rank = 1 marks the latest promoted
-- version of each key, the one production keeps.
-- key: the entity's id column.
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
        -- Distinct versions of a key are all valid; the latest one wins.
        -- Only promoted rows have a version rank (1 = latest): production takes
        -- `reject_reason is null and version_rank = 1`, never a removed duplicate.
        case when disposition = 'promoted' then row_number() over (
            partition by {{ key }}, disposition
            order by batch_id desc, source_line desc
        ) end as version_rank
    from disposed
    union all
    -- A key no other row has, or none (rejected as missing_{{ key }}): nothing to rank.
    select
        *,
        1 as copy_rank,
        case when reject_reason is not null then 'quarantined' else 'promoted' end
            as disposition,
        case when reject_reason is null then 1 end as version_rank
    from checked
    where {{ key }} is null or {{ key }} not in (select {{ key }} from repeated_ids)
)
