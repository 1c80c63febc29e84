-- One row per transaction item, pointing at the dimension versions valid on its date.
with items as (
    select * from production.transaction_items
),

transactions as (
    select * from production.transactions
),

customers as (
    select * from warehouse.dim_customers
),

products as (
    select * from warehouse.dim_products
),

payment_methods as (
    select * from warehouse.dim_payment_method
),

dates as (
    select * from warehouse.dim_date
)

select
    row_number() over (order by items.item_id) as sales_key,
    dates.date_key,
    customers.customer_key,
    products.product_key,
    payment_methods.payment_method_key,
    transactions.transaction_id,
    items.item_id,
    items.quantity,
    items.unit_price,
    items.quantity * items.unit_price - items.line_total as discount_amount,
    items.line_total,
    -- Profit uses the cost of the product version valid when the item was sold.
    items.line_total - products.cost * items.quantity as profit,
    current_timestamp as created_at
from items
inner join transactions on items.transaction_id = transactions.transaction_id
inner join dates on transactions.transaction_date = dates.full_date
inner join customers
    on transactions.customer_id = customers.customer_id
    and transactions.transaction_date >= customers.effective_date
    and (customers.end_date is null or transactions.transaction_date < customers.end_date)
inner join products
    on items.product_id = products.product_id
    and transactions.transaction_date >= products.effective_date
    and (products.end_date is null or transactions.transaction_date < products.end_date)
inner join payment_methods on transactions.payment_method = payment_methods.payment_method_name
