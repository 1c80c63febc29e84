-- The first queue entries of a backlog in which no item id is queued twice (batch_load
-- knows from two counts): every entry is its item's first, so the backlog is read as it
-- is. The cheap variant of first_queued.sql, for the usual backlog (one pass per batch,
-- or batches that never send an item again): it skips that file's group-by over every
-- entry and its join back, which find nothing to choose between here.
create temporary view wh_first_queued as
select item_id, batch_id, discount_percentage
from ops.warehouse_backlog
