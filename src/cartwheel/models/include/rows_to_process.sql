-- The rows of staging.<entity> a run examines: its batches' rows, and the rows earlier
-- runs quarantined at the quality stage and have not released.
-- entity: the staging table (transactions, transaction_items).
{{ include batch_rows entity={{ entity }} }}
union all
-- Rows quarantined by earlier runs are examined again: a customer, product or order
-- that arrived late can make them valid.
select staged.*
from staging.{{ entity }} as staged
inner join ops.quarantine as held
    on held.batch_id = staged.batch_id
    and held.source_file = staged.source_file
    and held.source_line = staged.source_line
where held.entity = '{{ entity }}' and held.stage = 'quality'
    and held.released_at is null
    and staged.batch_id not in (select batch_id from ops.run_batches)
