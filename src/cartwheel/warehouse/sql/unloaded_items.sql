-- The queued items of this pass that did not become facts, with whether production holds
-- them (read only when the pass added fewer facts than it numbered items). A new fact has
-- a sales key from the pass's first one on.
select
    queued.item_id,
    items.item_id is not null as promoted
from wh_queued_items as queued
left join production.transaction_items as items on queued.item_id = items.item_id
where not exists (
        select 1 from warehouse.fact_sales as facts
        where facts.sales_key >= (select first_sales_key from wh_batch)
            and facts.sales_key = queued.sales_key
    )
order by queued.item_id
