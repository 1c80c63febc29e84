-- The analytics' kept sums (ops.product_version_sales, ops.customer_state_sales,
-- ops.discount_sales, ops.daily_category_sales), run after aggregates.sql in a warehouse
-- pass: it reads that file's wh_new_facts and wh_days and the dimensions' wh_dim_*_moved. Run alone on a warehouse that
-- predates these tables (see no_new_facts.sql), it fills them from every fact.

-- The analytics' sums per product version, customer version and discount (ops.*_sales):
-- a key gains the sums of its new facts. A product or customer whose facts moved to
-- another version (a late batch) is recomputed from all its facts, and so is every one
-- while its table is still empty and older facts exist (a warehouse from before them).
create temporary table wh_recounted_products as
select product_id from wh_dim_products_moved
union
select product_id from warehouse.dim_products
where not exists (select 1 from ops.product_version_sales)
    and exists (select 1 from warehouse.fact_sales where sales_key < {{ first_sales_key }});

-- The lines to add up: the new facts of the other products, every fact of the recomputed.
create temporary table wh_product_version_lines as
select
    facts.product_key,
    products.product_id,
    facts.unit_price,
    facts.quantity,
    facts.line_total,
    facts.profit
from warehouse.fact_sales as facts
inner join warehouse.dim_products as products on facts.product_key = products.product_key
where facts.sales_key >= {{ first_sales_key }}
    and products.product_id not in (select product_id from wh_recounted_products)
union all
select
    facts.product_key,
    products.product_id,
    facts.unit_price,
    facts.quantity,
    facts.line_total,
    facts.profit
from warehouse.fact_sales as facts
inner join warehouse.dim_products as products on facts.product_key = products.product_key
where products.product_id in (select product_id from wh_recounted_products);

create temporary table wh_product_version_sales as
select
    product_key,
    product_id,
    sum(order_lines) as order_lines,
    sum(costed_lines) as costed_lines,
    sum(unit_price_sum) as unit_price_sum,
    sum(units) as units,
    sum(revenue) as revenue,
    sum(profit) as profit
from (
    select product_key, product_id, order_lines, costed_lines, unit_price_sum, units, revenue, profit
    from ops.product_version_sales
    where product_key in (select product_key from wh_product_version_lines)
        and product_id not in (select product_id from wh_recounted_products)
    union all
    select
        product_key,
        product_id,
        count(*),
        count(profit),
        sum(unit_price),
        sum(quantity),
        sum(line_total),
        sum(profit)
    from wh_product_version_lines
    group by product_key, product_id
) as versions
group by product_key, product_id;

delete from ops.product_version_sales
where product_key in (select product_key from wh_product_version_sales)
    or product_id in (select product_id from wh_recounted_products);

insert into ops.product_version_sales (
    product_key, product_id, order_lines, costed_lines, unit_price_sum, units, revenue, profit
)
select product_key, product_id, order_lines, costed_lines, unit_price_sum, units, revenue, profit
from wh_product_version_sales;

create temporary table wh_recounted_customers as
select customer_id from wh_dim_customers_moved
union
select customer_id from warehouse.dim_customers
where not exists (select 1 from ops.customer_state_sales)
    and exists (select 1 from warehouse.fact_sales where sales_key < {{ first_sales_key }});

create temporary table wh_customer_state_lines as
select facts.customer_key, customers.customer_id, facts.shipping_state, facts.line_total
from warehouse.fact_sales as facts
inner join warehouse.dim_customers as customers on facts.customer_key = customers.customer_key
where facts.sales_key >= {{ first_sales_key }}
    and customers.customer_id not in (select customer_id from wh_recounted_customers)
union all
select facts.customer_key, customers.customer_id, facts.shipping_state, facts.line_total
from warehouse.fact_sales as facts
inner join warehouse.dim_customers as customers on facts.customer_key = customers.customer_key
where customers.customer_id in (select customer_id from wh_recounted_customers);

create temporary table wh_customer_state_sales as
select customer_key, customer_id, shipping_state, sum(revenue) as revenue
from (
    select customer_key, customer_id, shipping_state, revenue
    from ops.customer_state_sales
    where customer_key in (select customer_key from wh_customer_state_lines)
        and customer_id not in (select customer_id from wh_recounted_customers)
    union all
    select customer_key, customer_id, shipping_state, sum(line_total)
    from wh_customer_state_lines
    group by customer_key, customer_id, shipping_state
) as states
group by customer_key, customer_id, shipping_state;

delete from ops.customer_state_sales
where customer_key in (select customer_key from wh_customer_state_sales)
    or customer_id in (select customer_id from wh_recounted_customers);

insert into ops.customer_state_sales (customer_key, customer_id, shipping_state, revenue)
select customer_key, customer_id, shipping_state, revenue from wh_customer_state_sales;

-- A line's discount never changes: the kept sums, the new facts' and, while the table is
-- still empty, those of the older facts (their discount from production's order lines).
create temporary table wh_discount_sales as
select
    discount_percentage,
    sum(order_lines) as order_lines,
    sum(units) as units,
    sum(revenue) as revenue
from (
    select discount_percentage, order_lines, units, revenue from ops.discount_sales
    union all
    select discount_percentage, count(*), sum(quantity), sum(line_total)
    from wh_new_facts
    group by discount_percentage
    union all
    select items.discount_percentage, count(*), sum(facts.quantity), sum(facts.line_total)
    from warehouse.fact_sales as facts
    inner join production.transaction_items as items on facts.item_id = items.item_id
    where facts.sales_key < {{ first_sales_key }}
        and not exists (select 1 from ops.discount_sales)
    group by items.discount_percentage
) as discounts
group by discount_percentage;

delete from ops.discount_sales;

insert into ops.discount_sales (discount_percentage, order_lines, units, revenue)
select discount_percentage, order_lines, units, revenue from wh_discount_sales;

-- The forecast's revenue per day and category, read by the analytics and the dashboard
-- on every run: recomputed from their facts for the days aggregates.sql recomputes
-- (wh_days: new facts, and facts moved to another product version, which may change
-- category), and for every day while the table is still empty (a warehouse from before it).
create temporary table wh_series_days as
select date_key from wh_days
union
select date_key from warehouse.agg_daily_sales
where not exists (select 1 from ops.daily_category_sales);

delete from ops.daily_category_sales where date_key in (select date_key from wh_series_days);

insert into ops.daily_category_sales (date_key, category, revenue)
select facts.date_key, products.category, sum(facts.line_total)
from warehouse.fact_sales as facts
inner join warehouse.dim_products as products on facts.product_key = products.product_key
where facts.date_key between {{ first_series_day }} and {{ last_series_day }}
    and facts.date_key in (select date_key from wh_series_days)
group by facts.date_key, products.category;
