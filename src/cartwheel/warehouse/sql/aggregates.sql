-- The aggregates' statements for one batch, run in order by warehouse/aggregates.py.
-- Its values: first_sales_key, the batch's first new fact, and the date keys that a
-- temporary table's days or months span, known once it exists: first_day and last_day
-- (wh_days), first_month_day and last_month_day (wh_months), first_added_day and
-- last_added_day (wh_added_months).

-- The facts this pass added, with their business keys, discount and the names the
-- dashboard groups on.
create temporary table wh_new_facts as
select
    facts.date_key,
    dates.year,
    dates.month,
    dates.year * 100 + dates.month as month_key,
    facts.transaction_id,
    facts.quantity,
    facts.line_total,
    facts.profit,
    facts.customer_key,
    customers.customer_id,
    products.product_id,
    coalesce(products.category, 'Unknown') as category_name,
    coalesce(products.sub_category, 'Unknown') as sub_category,
    -- The order's ship-to state where the data has one, else where the customer lived.
    coalesce(facts.shipping_state, customers.state, 'Unknown') as state_name,
    -- NULL: the order's payment method is not in the data.
    payment_methods.payment_method_name,
    dates.full_date,
    items.discount_percentage
from warehouse.fact_sales as facts
inner join warehouse.dim_customers as customers
    on facts.customer_key = customers.customer_key
inner join warehouse.dim_products as products on facts.product_key = products.product_key
inner join warehouse.dim_date as dates on facts.date_key = dates.date_key
-- The discount of the item's first queue entry, found by the sales key it was given.
inner join wh_queued_items as items on facts.sales_key = items.sales_key
left join warehouse.dim_payment_method as payment_methods
    on facts.payment_method_key = payment_methods.payment_method_key
where facts.sales_key >= {{ first_sales_key }};

-- Days to recompute: new facts and facts whose product version (profit) moved.
create temporary table wh_days as
select date_key from wh_new_facts
union
select date_key from wh_dim_products_moved;

delete from warehouse.agg_daily_sales where date_key in (select date_key from wh_days);

insert into warehouse.agg_daily_sales (
    date_key, total_transactions, total_revenue, total_profit, unique_customers
)
select
    facts.date_key,
    count(distinct facts.transaction_id),
    sum(facts.line_total),
    sum(facts.profit),
    count(distinct customers.customer_id)
from warehouse.fact_sales as facts
inner join warehouse.dim_customers as customers
    on facts.customer_key = customers.customer_key
where facts.date_key between {{ first_day }} and {{ last_day }}
    and facts.date_key in (select date_key from wh_days)
group by facts.date_key;

-- The dashboard's monthly sums and ops.monthly_sales. A transaction's facts all come from
-- one batch, so a month that gains new facts gains their sums, orders included (its
-- customers count once: those who bought there before are left out). A month with facts
-- moved to another version (a product's category or cost, a customer's state) is
-- recomputed from its facts, and so is every month while the sums are still empty (a
-- warehouse from before they existed).
create temporary table wh_months as
select distinct dates.year * 100 + dates.month as month_key
from warehouse.dim_date as dates
where dates.date_key in (
        select date_key from wh_dim_products_moved
        union
        select date_key from wh_dim_customers_moved
    )
    or (
        not exists (select 1 from ops.dashboard_sales_cells)
        and dates.date_key in (select date_key from warehouse.agg_daily_sales)
    );

-- The other months with new facts: their kept sums plus the new facts' sums.
create temporary table wh_added_months as
select distinct month_key from wh_new_facts
where month_key not in (select month_key from wh_months);

create temporary table wh_touched_months as
select month_key from wh_months
union
select month_key from wh_added_months;

-- Customers who bought in an added month before this pass (counted there already).
create temporary table wh_month_regulars as
select distinct dates.year * 100 + dates.month as month_key, versions.customer_id
from warehouse.fact_sales as facts
inner join warehouse.dim_date as dates on facts.date_key = dates.date_key
inner join warehouse.dim_customers as versions on facts.customer_key = versions.customer_key
where facts.sales_key < {{ first_sales_key }}
    and facts.date_key between {{ first_added_day }} and {{ last_added_day }}
    and dates.year * 100 + dates.month in (select month_key from wh_added_months)
    and facts.customer_key in (
        select customer_key from warehouse.dim_customers
        where customer_id in (select customer_id from wh_new_facts)
    );

-- The lines to add up: every line of the recomputed months, the new facts of the added
-- months. `month_customer_id` is the customer where these lines count them in the month
-- (NULL for a customer counted there already).
create temporary table wh_month_lines as
select
    dates.year,
    dates.month,
    dates.year * 100 + dates.month as month_key,
    facts.date_key,
    products.product_id,
    coalesce(products.category, 'Unknown') as category_name,
    coalesce(products.sub_category, 'Unknown') as sub_category,
    -- The order's ship-to state where the data has one, else where the customer lived.
    coalesce(facts.shipping_state, customers.state, 'Unknown') as state_name,
    -- NULL: the order's payment method is not in the data.
    payment_methods.payment_method_name,
    facts.customer_key,
    customers.customer_id as month_customer_id,
    facts.transaction_id,
    facts.quantity,
    facts.line_total,
    facts.profit
from warehouse.fact_sales as facts
inner join warehouse.dim_date as dates on facts.date_key = dates.date_key
inner join warehouse.dim_products as products on facts.product_key = products.product_key
inner join warehouse.dim_customers as customers
    on facts.customer_key = customers.customer_key
left join warehouse.dim_payment_method as payment_methods
    on facts.payment_method_key = payment_methods.payment_method_key
where facts.date_key between {{ first_month_day }} and {{ last_month_day }}
    and dates.year * 100 + dates.month in (select month_key from wh_months)
union all
select
    new_facts.year,
    new_facts.month,
    new_facts.month_key,
    new_facts.date_key,
    new_facts.product_id,
    new_facts.category_name,
    new_facts.sub_category,
    new_facts.state_name,
    new_facts.payment_method_name,
    new_facts.customer_key,
    case when regulars.customer_id is null then new_facts.customer_id end,
    new_facts.transaction_id,
    new_facts.quantity,
    new_facts.line_total,
    new_facts.profit
from wh_new_facts as new_facts
left join wh_month_regulars as regulars
    on new_facts.month_key = regulars.month_key
    and new_facts.customer_id = regulars.customer_id
where new_facts.month_key in (select month_key from wh_added_months);

-- Each table below: the kept rows of the added months and the lines' sums, added up;
-- then the touched months' rows replaced by them.
create temporary table wh_sales_cells as
select
    month_key,
    category_name,
    state_name,
    payment_method_name,
    sum(revenue) as revenue,
    sum(profit) as profit,
    sum(costed_revenue) as costed_revenue,
    sum(units) as units,
    sum(order_lines) as order_lines,
    sum(orders) as orders
from (
    select
        month_key,
        category_name,
        state_name,
        payment_method_name,
        revenue,
        profit,
        costed_revenue,
        units,
        order_lines,
        orders
    from ops.dashboard_sales_cells
    where month_key in (select month_key from wh_added_months)
    union all
    {{ include sales_cell_sums lines=wh_month_lines }}
) as cells
group by month_key, category_name, state_name, payment_method_name;

delete from ops.dashboard_sales_cells
where month_key in (select month_key from wh_touched_months);

insert into ops.dashboard_sales_cells (
    month_key, category_name, state_name, payment_method_name, revenue, profit,
    costed_revenue, units, order_lines, orders
)
select
    month_key, category_name, state_name, payment_method_name, revenue, profit,
    costed_revenue, units, order_lines, orders
from wh_sales_cells;

create temporary table wh_category_days as
select
    month_key, date_key, category_name, sum(revenue) as revenue, sum(orders) as orders
from (
    select month_key, date_key, category_name, revenue, orders
    from ops.dashboard_category_days
    where month_key in (select month_key from wh_added_months)
    union all
    {{ include category_day_sums lines=wh_month_lines }}
) as days
group by month_key, date_key, category_name;

delete from ops.dashboard_category_days
where month_key in (select month_key from wh_touched_months);

insert into ops.dashboard_category_days (month_key, date_key, category_name, revenue, orders)
select month_key, date_key, category_name, revenue, orders from wh_category_days;

create temporary table wh_sub_category_months as
{{ include added_month_sums key=sub_category table=ops.dashboard_sub_category_months }}
;

delete from ops.dashboard_sub_category_months
where month_key in (select month_key from wh_touched_months);

insert into ops.dashboard_sub_category_months (
    month_key, category_name, sub_category, revenue, profit, units
)
select month_key, category_name, sub_category, revenue, profit, units
from wh_sub_category_months;

create temporary table wh_product_months as
{{ include added_month_sums key=product_id table=ops.dashboard_product_months }}
;

delete from ops.dashboard_product_months
where month_key in (select month_key from wh_touched_months);

insert into ops.dashboard_product_months (
    month_key, product_id, category_name, revenue, profit, units
)
select month_key, product_id, category_name, revenue, profit, units from wh_product_months;

create temporary table wh_monthly_sales as
select
    year,
    month,
    sum(revenue) as revenue,
    sum(transactions) as transactions,
    sum(unique_customers) as unique_customers
from (
    select year, month, revenue, transactions, unique_customers
    from ops.monthly_sales
    where year * 100 + month in (select month_key from wh_added_months)
    union all
    select
        year,
        month,
        sum(line_total),
        count(distinct transaction_id),
        count(distinct month_customer_id)
    from wh_month_lines
    group by year, month
) as months
group by year, month;

delete from ops.monthly_sales
where year * 100 + month in (select month_key from wh_touched_months);

insert into ops.monthly_sales (year, month, revenue, transactions, unique_customers)
select year, month, revenue, transactions, unique_customers from wh_monthly_sales;

-- Customers: previous totals (found through any of their keys, old or new) + batch.
create temporary table wh_customer_keys as
select customer_key, customer_id from warehouse.dim_customers
where customer_id in (select customer_id from wh_dim_customers_ids)
    or customer_id in (select customer_id from wh_new_facts)
union
select customer_key, customer_id from wh_dim_customers_old;

create temporary table wh_customer_totals as
with previous as (
    select
        keys.customer_id,
        metrics.total_transactions,
        metrics.total_spent,
        metrics.last_purchase_date
    from warehouse.agg_customer_metrics as metrics
    inner join wh_customer_keys as keys on metrics.customer_key = keys.customer_key
),

batch as (
    select
        customer_id,
        count(distinct transaction_id) as total_transactions,
        sum(line_total) as total_spent,
        max(full_date) as last_purchase_date
    from wh_new_facts
    group by customer_id
),

combined as (
    select * from previous
    union all
    select * from batch
)

select
    customer_id,
    sum(total_transactions) as total_transactions,
    sum(total_spent) as total_spent,
    max(last_purchase_date) as last_purchase_date
from combined
group by customer_id;

delete from warehouse.agg_customer_metrics
where customer_key in (select customer_key from wh_customer_keys);

insert into warehouse.agg_customer_metrics (
    customer_key, total_transactions, total_spent, avg_order_value, last_purchase_date
)
select
    customers.customer_key,
    totals.total_transactions,
    totals.total_spent,
    -- Per transaction, never per item.
    round(totals.total_spent / totals.total_transactions, 2),
    totals.last_purchase_date
from wh_customer_totals as totals
inner join warehouse.dim_customers as customers
    on totals.customer_id = customers.customer_id and customers.is_current;

-- Each touched customer's segment from their totals, beside the one they have now.
create temporary table wh_segments as
select
    current_versions.customer_id,
    current_versions.customer_segment as old_segment,
    case
        when coalesce(metrics.total_spent, 0) >= 5000 then 'VIP'
        when coalesce(metrics.total_transactions, 0) >= 2 then 'Regular'
        else 'New'
    end as customer_segment
from warehouse.dim_customers as current_versions
left join warehouse.agg_customer_metrics as metrics
    on current_versions.customer_key = metrics.customer_key
where current_versions.is_current
    and current_versions.customer_id in (select customer_id from wh_customer_keys);

update warehouse.dim_customers as customers
set customer_segment = segments.customer_segment
from (select customer_id, customer_segment from wh_segments) as segments
where customers.customer_id = segments.customer_id
    and customers.customer_segment <> segments.customer_segment;

-- The dashboard's orders per month, state, payment method and segment, with today's
-- segments: the recomputed months emptied, then the lines' orders added; in the other
-- months the earlier orders of the customers whose segment changed move from their old
-- segment to the new one.
delete from ops.dashboard_order_cells where month_key in (select month_key from wh_months);

create temporary table wh_order_moves as
with changed as (
    select versions.customer_key, segments.old_segment, segments.customer_segment as new_segment
    from warehouse.dim_customers as versions
    inner join wh_segments as segments on versions.customer_id = segments.customer_id
    where segments.old_segment <> segments.customer_segment
),

moved as (
    select
        dates.year * 100 + dates.month as month_key,
        coalesce(facts.shipping_state, customers.state, 'Unknown') as state_name,
        methods.payment_method_name,
        changed.old_segment,
        changed.new_segment,
        count(distinct facts.transaction_id) as orders,
        sum(facts.line_total) as revenue
    from warehouse.fact_sales as facts
    inner join changed on facts.customer_key = changed.customer_key
    inner join warehouse.dim_date as dates on facts.date_key = dates.date_key
    inner join warehouse.dim_customers as customers
        on facts.customer_key = customers.customer_key
    left join warehouse.dim_payment_method as methods
        on facts.payment_method_key = methods.payment_method_key
    where facts.sales_key < {{ first_sales_key }}
        and dates.year * 100 + dates.month not in (select month_key from wh_months)
    group by 1, 2, 3, 4, 5
)

select
    month_key,
    state_name,
    payment_method_name,
    old_segment as customer_segment,
    -orders as orders,
    -revenue as revenue
from moved
union all
select month_key, state_name, payment_method_name, new_segment, orders, revenue
from moved
union all
select
    lines.month_key,
    lines.state_name,
    lines.payment_method_name,
    coalesce(customers.customer_segment, 'Unknown'),
    count(distinct lines.transaction_id),
    sum(lines.line_total)
from wh_month_lines as lines
inner join warehouse.dim_customers as customers on lines.customer_key = customers.customer_key
group by
    lines.month_key, lines.state_name, lines.payment_method_name, customers.customer_segment;

create temporary table wh_order_cells as
select
    month_key,
    state_name,
    payment_method_name,
    customer_segment,
    sum(orders) as orders,
    sum(revenue) as revenue
from (
    select month_key, state_name, payment_method_name, customer_segment, orders, revenue
    from ops.dashboard_order_cells
    where month_key in (select month_key from wh_order_moves)
    union all
    select month_key, state_name, payment_method_name, customer_segment, orders, revenue
    from wh_order_moves
) as cells
group by month_key, state_name, payment_method_name, customer_segment;

delete from ops.dashboard_order_cells where month_key in (select month_key from wh_order_moves);

-- A cell whose every order moved away is gone.
insert into ops.dashboard_order_cells (
    month_key, state_name, payment_method_name, customer_segment, orders, revenue
)
select month_key, state_name, payment_method_name, customer_segment, orders, revenue
from wh_order_cells
where orders > 0;

-- Products: running totals per product id, plus profit moved by re-pointed facts.
create temporary table wh_product_batch as
select
    product_id,
    count(*) as item_count,
    sum(discount_percentage) as discount_sum,
    sum(quantity) as total_quantity_sold,
    sum(line_total) as total_revenue,
    sum(profit) as total_profit
from wh_new_facts
group by product_id
union all
select product_id, 0, 0, 0, 0, sum(new_profit - old_profit)
from wh_dim_products_moved
group by product_id;

create temporary table wh_product_totals as
with combined as (
    select * from ops.product_sales_totals
    where product_id in (select product_id from wh_product_batch)
    union all
    select * from wh_product_batch
)

select
    product_id,
    sum(item_count) as item_count,
    sum(discount_sum) as discount_sum,
    sum(total_quantity_sold) as total_quantity_sold,
    sum(total_revenue) as total_revenue,
    sum(total_profit) as total_profit
from combined
group by product_id;

delete from ops.product_sales_totals
where product_id in (select product_id from wh_product_totals);

insert into ops.product_sales_totals select * from wh_product_totals;

create temporary table wh_product_keys as
select product_key, product_id from warehouse.dim_products
where product_id in (select product_id from wh_dim_products_ids)
    or product_id in (select product_id from wh_product_totals)
union
select product_key, product_id from wh_dim_products_old;

delete from warehouse.agg_product_performance
where product_key in (select product_key from wh_product_keys);

insert into warehouse.agg_product_performance (
    product_key, total_quantity_sold, total_revenue, total_profit, avg_discount_percentage
)
select
    products.product_key,
    totals.total_quantity_sold,
    totals.total_revenue,
    totals.total_profit,
    round(totals.discount_sum / totals.item_count, 2)
from ops.product_sales_totals as totals
inner join warehouse.dim_products as products
    on totals.product_id = products.product_id and products.is_current
where totals.product_id in (select product_id from wh_product_keys)
    and totals.item_count > 0;
