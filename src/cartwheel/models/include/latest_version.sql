-- The CTEs `disposed` and `ranked` of an entity that keeps versions (customers,
-- products), over the CTE `deduplicated` (its rows with reject_reason and copy_rank).
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
)
