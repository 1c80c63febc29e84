-- Built once as a temporary table where the dashboard reads the order lines (a warehouse
-- without the monthly sums, or categories past their cap): one row per order line with
-- the names the sums group on, categories past the cap folded into 'Other'. The tables
-- in lines/ sum it up in the shape of the kept sums, which the queries then read.
with sales as (
    select * from warehouse.fact_sales
),

dates as (
    select date_key, year, month from warehouse.dim_date
),

products as (
    select product_key, product_id, category, sub_category from warehouse.dim_products
),

customers as (
    select customer_key, state, customer_segment from warehouse.dim_customers
),

payment_methods as (
    select payment_method_key, payment_method_name from warehouse.dim_payment_method
),

joined as (
    select
        dates.year * 100 + dates.month as month_key,
        sales.date_key,
        products.product_id,
        coalesce(products.category, 'Unknown') as category_name,
        coalesce(products.sub_category, 'Unknown') as sub_category,
        -- The order's ship-to state where the data has one, else where the customer lived.
        coalesce(sales.shipping_state, customers.state, 'Unknown') as state_name,
        coalesce(customers.customer_segment, 'Unknown') as customer_segment,
        -- Orders whose payment method is not in the data.
        coalesce(payment_methods.payment_method_name, 'Unknown') as payment_method_name,
        sales.transaction_id,
        sales.quantity,
        sales.line_total,
        sales.profit
    from sales
    inner join dates on sales.date_key = dates.date_key
    inner join products on sales.product_key = products.product_key
    inner join customers on sales.customer_key = customers.customer_key
    left join payment_methods on sales.payment_method_key = payment_methods.payment_method_key
),

category_ranks as (
    select
        category_name,
        row_number() over (order by sum(line_total) desc, category_name) as category_rank
    from joined
    group by category_name
)

select
    joined.month_key,
    joined.date_key,
    joined.product_id,
    case
        when category_ranks.category_rank <= {{ max_categories }} then joined.category_name
        else 'Other'
    end as category_name,
    joined.sub_category,
    joined.state_name,
    joined.customer_segment,
    joined.payment_method_name,
    joined.transaction_id,
    joined.quantity,
    joined.line_total,
    joined.profit
from joined
inner join category_ranks on joined.category_name = category_ranks.category_name
