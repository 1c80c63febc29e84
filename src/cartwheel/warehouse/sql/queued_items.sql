-- The queued items that are not facts yet (a re-run finds none), each with its first
-- batch, its discount and the sales key it will have: numbered from wh_batch's first
-- sales key in the order of first batch, then item id (as if each batch had its own
-- pass). Numbered here, over three narrow columns, not over the joined fact rows: the
-- sort is the cost, and it is the same order of the same items (every queued item is a
-- promoted production item whose customer and product have a version on its date). An
-- entry that makes no fact leaves its key unused: a gap, harmless in a surrogate key;
-- batch_load checks that such an entry's item is not in production (else it stops).
-- The fact load and the aggregates both read this table (the aggregates by sales key).
create temporary table wh_queued_items as
select
    queued.item_id,
    queued.batch_id as loaded_in,
    queued.discount_percentage,
    (select first_sales_key from wh_batch) - 1
        + row_number() over (order by queued.batch_id, queued.item_id) as sales_key
from wh_first_queued as queued
where not exists (
        select 1 from warehouse.fact_sales as facts where facts.item_id = queued.item_id
    )
