-- The CTE `repeated_ids` of an entity, over the CTE `checked`: the ids on more than one
-- row. Only their rows are ranked (latest_of_id, latest_version): an id on one row is
-- its own first copy and latest version, and sorting every row was most of the
-- validation models' cost.
-- key: the entity's id column.
repeated_ids as (
    select {{ key }} from checked
    where {{ key }} is not null
    group by {{ key }}
    having count(*) > 1
)
