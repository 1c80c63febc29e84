-- kept_sums.sql run alone, with no new facts (the analytics' kept sums of a warehouse that
-- an older cartwheel built, and no batch since): the temporary tables a warehouse pass
-- would leave it, empty, so that every fact is summed as an older fact.
create temporary table wh_dim_products_moved as
select product_id from warehouse.dim_products
where false;

create temporary table wh_dim_customers_moved as
select customer_id from warehouse.dim_customers
where false;

create temporary table wh_new_facts as
select items.discount_percentage, facts.quantity, facts.line_total
from warehouse.fact_sales as facts
inner join production.transaction_items as items on facts.item_id = items.item_id
where false;

create temporary table wh_days as
select date_key from warehouse.agg_daily_sales
where false;
