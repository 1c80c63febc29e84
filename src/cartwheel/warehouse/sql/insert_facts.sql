-- The new items as facts, each pointing at the customer and product versions valid on
-- its transaction date, with the sales key wh_queued_items gave it.
insert into warehouse.fact_sales (
    sales_key, date_key, customer_key, product_key, payment_method_key, transaction_id,
    item_id, quantity, unit_price, discount_amount, line_total, profit, shipping_city,
    shipping_state, shipping_postal_code, shipping_country, created_at
)
select
    new_items.sales_key,
    dates.date_key,
    customers.customer_key,
    products.product_key,
    payment_methods.payment_method_key,
    new_items.transaction_id,
    new_items.item_id,
    new_items.quantity,
    new_items.unit_price,
    new_items.quantity * new_items.unit_price - new_items.line_total as discount_amount,
    new_items.line_total,
    -- Profit uses the cost of the product version valid when the item was sold
    -- (NULL when the cost is not in the data).
    new_items.line_total - products.cost * new_items.quantity as profit,
    new_items.shipping_city,
    new_items.shipping_state,
    new_items.shipping_postal_code,
    new_items.shipping_country,
    current_timestamp as created_at
from wh_new_items as new_items
inner join warehouse.dim_date as dates on new_items.transaction_date = dates.full_date
inner join warehouse.dim_customers as customers
    on new_items.customer_id = customers.customer_id
    and new_items.transaction_date >= customers.effective_date
    and (customers.end_date is null or new_items.transaction_date < customers.end_date)
inner join warehouse.dim_products as products
    on new_items.product_id = products.product_id
    and new_items.transaction_date >= products.effective_date
    and (products.end_date is null or new_items.transaction_date < products.end_date)
left join warehouse.dim_payment_method as payment_methods
    on new_items.payment_method = payment_methods.payment_method_name
