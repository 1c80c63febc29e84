-- Each queued item's first queue entry, for a backlog where an item id is queued more
-- than once (sent again by a later batch): the entry of the first batch that promoted it
-- (a batch queues an item once; distinct: a backlog queued twice by one batch before
-- production replaced a batch's entries). A backlog of items queued once is its own
-- first entries, and queued_once.sql reads it directly instead.
create temporary view wh_first_queued as
with first_batches as (
    select item_id, min(batch_id) as batch_id
    from ops.warehouse_backlog
    group by item_id
)

select distinct queued.item_id, queued.batch_id, queued.discount_percentage
from ops.warehouse_backlog as queued
inner join first_batches
    on queued.item_id = first_batches.item_id
    and queued.batch_id = first_batches.batch_id
