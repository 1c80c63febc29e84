-- Keys and indexes of the production tables, for engines that declare them (PostgreSQL).
-- Added once, after the first bulk load, so the load itself maintains no index row by
-- row, and later loads keep them. Names are PostgreSQL's defaults for inline constraints.
alter table production.customers add constraint customers_pkey primary key (customer_id);
alter table production.products add constraint products_pkey primary key (product_id);
alter table production.transactions add constraint transactions_pkey primary key (transaction_id);
alter table production.transaction_items add constraint transaction_items_pkey primary key (item_id);
alter table production.customer_history
    add constraint customer_history_pkey primary key (customer_id, business_date);
alter table production.product_history
    add constraint product_history_pkey primary key (product_id, business_date);
alter table production.transactions add constraint transactions_customer_id_fkey
    foreign key (customer_id) references production.customers (customer_id);
alter table production.transaction_items add constraint transaction_items_transaction_id_fkey
    foreign key (transaction_id) references production.transactions (transaction_id);
alter table production.transaction_items add constraint transaction_items_product_id_fkey
    foreign key (product_id) references production.products (product_id);
create index if not exists idx_transactions_customer_id on production.transactions (customer_id);
create index if not exists idx_transactions_transaction_date on production.transactions (transaction_date);
create index if not exists idx_transaction_items_transaction_id on production.transaction_items (transaction_id);
create index if not exists idx_transaction_items_product_id on production.transaction_items (product_id);
