-- Production (3NF) tables with their NOT NULL and CHECK rules. Portable DDL: DuckDB and
-- PostgreSQL. Keys and indexes are not declared here: PostgreSQL adds them after the first
-- bulk load (keys.sql), and DuckDB, whose per-row index maintenance is the cost of a bulk
-- load, has the same rules proven set-based after every merge (integrity.py).
create table if not exists production.customers (
    customer_id varchar not null,
    first_name varchar not null,
    last_name varchar,
    -- Not UNIQUE: customers change their email (SCD2 feed), and DuckDB refuses any update
    -- of an indexed column in a row that a foreign key references. Duplicate emails
    -- are a quality check instead.
    -- Optional fields are NULL when the shop's data lacks them. Vocabularies (age
    -- groups, categories, payment methods) are the shop's own, so no CHECK lists them.
    -- Cleansing lower-cases emails (NULL where the shop's data has none).
    email varchar check (email = lower(email)),
    phone varchar,
    registration_date date,
    city varchar,
    state varchar,
    country varchar,
    age_group varchar,
    created_at timestamp not null,
    updated_at timestamp not null
);

create table if not exists production.products (
    product_id varchar not null,
    product_name varchar not null,
    category varchar,
    sub_category varchar,
    price decimal(12, 2) not null check (price > 0),
    cost decimal(12, 2) check (cost >= 0),
    brand varchar,
    stock_quantity integer check (stock_quantity >= 0),
    supplier_id varchar,
    -- NULL where the cost is unknown.
    profit_margin decimal(7, 2),
    -- The configured price bands (ops.bands).
    price_category varchar not null,
    created_at timestamp not null,
    updated_at timestamp not null,
    check (cost < price)
);

create table if not exists production.transactions (
    transaction_id varchar not null,
    customer_id varchar not null,
    transaction_date date not null,
    transaction_time varchar,
    payment_method varchar,
    shipping_address varchar,
    total_amount decimal(16, 4) not null check (total_amount >= 0),
    shipping_city varchar,
    shipping_state varchar,
    shipping_postal_code varchar,
    shipping_country varchar,
    created_at timestamp not null,
    updated_at timestamp not null
);

create table if not exists production.transaction_items (
    item_id varchar not null,
    transaction_id varchar not null,
    product_id varchar not null,
    quantity integer not null check (quantity >= 1),
    unit_price decimal(12, 4) not null check (unit_price > 0),
    discount_percentage decimal(5, 2) not null
        check (discount_percentage >= 0 and discount_percentage <= 100),
    line_total decimal(14, 4) not null check (line_total >= 0),
    created_at timestamp not null,
    updated_at timestamp not null
);

-- Databases created before the ship-to columns existed get them.
alter table production.transactions add column if not exists shipping_city varchar;
alter table production.transactions add column if not exists shipping_state varchar;
alter table production.transactions add column if not exists shipping_postal_code varchar;
alter table production.transactions add column if not exists shipping_country varchar;

-- Every accepted version of a customer or product, one row per key and business date
-- (the batch's date). production.customers/products hold the latest of these, the
-- warehouse's SCD2 dimensions are rebuilt from them for the keys a batch touches.
create table if not exists production.customer_history (
    customer_id varchar not null,
    business_date date not null,
    first_name varchar,
    last_name varchar,
    email varchar,
    phone varchar,
    registration_date date,
    city varchar,
    state varchar,
    country varchar,
    age_group varchar,
    batch_id varchar not null,
    loaded_at timestamp not null
);

create table if not exists production.product_history (
    product_id varchar not null,
    business_date date not null,
    product_name varchar,
    category varchar,
    sub_category varchar,
    price decimal(12, 2),
    cost decimal(12, 2),
    brand varchar,
    stock_quantity integer,
    supplier_id varchar,
    profit_margin decimal(7, 2),
    price_category varchar,
    batch_id varchar not null,
    loaded_at timestamp not null
);

-- The items production promoted that the warehouse has not made facts yet, with the
-- batch that promoted them (the warehouse may load several consecutive batches in one
-- pass; their facts are numbered batch by batch), what it needs to backdate the first
-- dimension versions, and the discount the product aggregates average. The warehouse
-- empties it.
create table if not exists ops.warehouse_backlog (
    batch_id varchar not null,
    item_id varchar not null,
    product_id varchar,
    customer_id varchar,
    transaction_date date,
    discount_percentage decimal(5, 2)
);
