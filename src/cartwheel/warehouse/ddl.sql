-- Warehouse tables kept incrementally (dim_date and dim_payment_method are rebuilt from
-- their models, and dim_payment_method reads its own keys back). Portable DDL: DuckDB and
-- PostgreSQL.
create table if not exists warehouse.dim_payment_method (
    payment_method_key bigint not null,
    payment_method_name varchar not null,
    payment_type varchar not null
);

create table if not exists warehouse.dim_customers (
    customer_key bigint not null,
    customer_id varchar not null,
    full_name varchar,
    email varchar,
    city varchar,
    state varchar,
    country varchar,
    age_group varchar,
    customer_segment varchar not null,
    registration_date date,
    effective_date date not null,
    end_date date,
    is_current boolean not null
);

create table if not exists warehouse.dim_products (
    product_key bigint not null,
    product_id varchar not null,
    product_name varchar,
    category varchar,
    sub_category varchar,
    brand varchar,
    price decimal(12, 2),
    cost decimal(12, 2),
    price_range varchar,
    effective_date date not null,
    end_date date,
    is_current boolean not null
);

create table if not exists warehouse.fact_sales (
    sales_key bigint not null,
    date_key integer not null,
    customer_key bigint not null,
    product_key bigint not null,
    -- NULL when the order's payment method is not in the data.
    payment_method_key bigint,
    transaction_id varchar not null,
    item_id varchar not null,
    quantity integer not null,
    -- Amounts keep the input's precision (up to 4 decimals), reports round at the end.
    unit_price decimal(12, 4) not null,
    discount_amount decimal(16, 4) not null,
    line_total decimal(14, 4) not null,
    -- NULL when the product's cost is not in the data.
    profit decimal(16, 4),
    -- Where the order went: the transaction's ship-to fields (NULL when the data has none).
    shipping_city varchar,
    shipping_state varchar,
    shipping_postal_code varchar,
    shipping_country varchar,
    created_at timestamp not null
);

-- Databases created before the ship-to columns existed get them.
alter table warehouse.fact_sales add column if not exists shipping_city varchar;
alter table warehouse.fact_sales add column if not exists shipping_state varchar;
alter table warehouse.fact_sales add column if not exists shipping_postal_code varchar;
alter table warehouse.fact_sales add column if not exists shipping_country varchar;

create table if not exists warehouse.agg_daily_sales (
    date_key integer not null,
    total_transactions bigint not null,
    total_revenue decimal(18, 4) not null,
    total_profit decimal(18, 4),
    unique_customers bigint not null
);

create table if not exists warehouse.agg_product_performance (
    product_key bigint not null,
    total_quantity_sold bigint not null,
    total_revenue decimal(18, 4) not null,
    total_profit decimal(18, 4),
    avg_discount_percentage decimal(7, 2) not null
);

create table if not exists warehouse.agg_customer_metrics (
    customer_key bigint not null,
    total_transactions bigint not null,
    total_spent decimal(18, 4) not null,
    avg_order_value decimal(18, 2) not null,
    last_purchase_date date not null
);

-- Running sums per product (business key) behind agg_product_performance: the average
-- discount needs the item count, which the spec's table does not carry.
create table if not exists ops.product_sales_totals (
    product_id varchar not null,
    item_count bigint not null,
    discount_sum decimal(18, 2) not null,
    total_quantity_sold bigint not null,
    total_revenue decimal(18, 4) not null,
    total_profit decimal(18, 4)
);

-- The dashboard's sums per month (warehouse/aggregates.sql recomputes the months a batch
-- touched), by the names the page groups on; `orders` counts distinct transactions in a
-- cell. A transaction has one date, state and payment method, so orders add up across
-- months, days, states and payment methods, not across categories.
create table if not exists ops.dashboard_sales_cells (
    month_key integer not null,
    category_name varchar not null,
    state_name varchar not null,
    payment_method_name varchar not null,
    revenue decimal(18, 4) not null,
    profit decimal(18, 4),
    costed_revenue decimal(18, 4),
    units bigint not null,
    order_lines bigint not null,
    orders bigint not null
);

create table if not exists ops.dashboard_category_days (
    month_key integer not null,
    date_key integer not null,
    category_name varchar not null,
    revenue decimal(18, 4) not null,
    orders bigint not null
);

create table if not exists ops.dashboard_sub_category_months (
    month_key integer not null,
    category_name varchar not null,
    sub_category varchar not null,
    revenue decimal(18, 4) not null,
    profit decimal(18, 4),
    units bigint not null
);

create table if not exists ops.dashboard_product_months (
    month_key integer not null,
    product_id varchar not null,
    category_name varchar not null,
    revenue decimal(18, 4) not null,
    profit decimal(18, 4),
    units bigint not null
);

-- Orders per month, state, payment method and customer segment (today's segment of the
-- customer: the cells move with a customer whose segment changes). The payment method is
-- NULL for orders whose method is not in the data.
create table if not exists ops.dashboard_order_cells (
    month_key integer not null,
    state_name varchar not null,
    payment_method_name varchar,
    customer_segment varchar not null,
    orders bigint not null,
    revenue decimal(18, 4) not null
);

-- Sales per calendar month for the analytics' monthly trend (recomputed like the above).
create table if not exists ops.monthly_sales (
    year integer not null,
    month integer not null,
    revenue decimal(18, 4) not null,
    transactions bigint not null,
    unique_customers bigint not null
);

-- The analytics' running sums, so that their queries read a table the size of a
-- dimension instead of every sale (warehouse/aggregates.sql keeps them). Per version key:
-- the queries join the version's attributes (category, state) when they read, so only
-- facts moving to another version (a late batch) change these sums. Counts are kept
-- beside the sums: averages and the "profit only when every cost is known" rule are
-- derived when the queries read, with the same rounding as over the sales.
create table if not exists ops.product_version_sales (
    product_key bigint not null,
    product_id varchar not null,
    order_lines bigint not null,
    -- Lines whose profit is known (the product version has a cost).
    costed_lines bigint not null,
    unit_price_sum decimal(18, 4) not null,
    units bigint not null,
    revenue decimal(18, 4) not null,
    profit decimal(18, 4)
);

-- Per customer version and ship-to state (NULL where the order has none: the query then
-- takes the version's state).
create table if not exists ops.customer_state_sales (
    customer_key bigint not null,
    customer_id varchar not null,
    shipping_state varchar,
    revenue decimal(18, 4) not null
);

-- Per discount percentage of the lines (the query bands them with the configured bands).
create table if not exists ops.discount_sales (
    discount_percentage decimal(5, 2) not null,
    order_lines bigint not null,
    units bigint not null,
    revenue decimal(18, 4) not null
);

-- Revenue per order date and category of the product version sold (NULL where the
-- product has none): the forecast's daily series, read by the analytics and the
-- dashboard on every run, without reading every sale.
create table if not exists ops.daily_category_sales (
    date_key integer not null,
    category varchar,
    revenue decimal(18, 4) not null
);

create index if not exists idx_dim_customers_customer_id on warehouse.dim_customers (customer_id);
create index if not exists idx_dim_products_product_id on warehouse.dim_products (product_id)
