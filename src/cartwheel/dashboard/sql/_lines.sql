-- Built once as a temporary table that every dashboard query reads: one row per order line
-- with the attributes the filters and charts need. Long tails are folded into 'Other' so the embedded data stays
-- bounded by these caps, whatever the shop's size.
with sales as (
    select * from warehouse.fact_sales
),

dates as (
    select date_key, full_date, year, month from warehouse.dim_date
),

products as (
    select product_key, product_id, category, sub_category from warehouse.dim_products
),

customers as (
    select customer_key, customer_id, state, customer_segment from warehouse.dim_customers
),

payment_methods as (
    select payment_method_key, payment_method_name from warehouse.dim_payment_method
),

joined as (
    select
        dates.year * 100 + dates.month as month_key,
        sales.date_key,
        cast(extract(isodow from dates.full_date) as integer) as iso_day_of_week,
        products.product_id,
        coalesce(products.category, 'Unknown') as category_name,
        coalesce(products.sub_category, 'Unknown') as sub_category,
        customers.customer_id,
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

-- Revenue per category, state and payment method: a few hundred rows that the three
-- rankings below read, instead of scanning every line three more times.
combinations as (
    select category_name, state_name, payment_method_name, sum(line_total) as revenue
    from joined
    group by category_name, state_name, payment_method_name
),

category_ranks as (
    select
        category_name,
        row_number() over (order by sum(revenue) desc, category_name) as category_rank
    from combinations
    group by category_name
),

state_ranks as (
    select
        state_name,
        row_number() over (order by sum(revenue) desc, state_name) as state_rank
    from combinations
    group by state_name
),

payment_ranks as (
    select
        payment_method_name,
        row_number() over (order by sum(revenue) desc, payment_method_name) as payment_rank
    from combinations
    group by payment_method_name
)

select
    joined.month_key,
    joined.date_key,
    joined.iso_day_of_week,
    joined.product_id,
    case
        when category_ranks.category_rank <= {{ max_categories }} then joined.category_name
        else 'Other'
    end as category,
    joined.sub_category,
    joined.customer_id,
    case
        when state_ranks.state_rank <= {{ max_states }} then joined.state_name
        else 'Other'
    end as state,
    joined.customer_segment,
    case
        when payment_ranks.payment_rank <= {{ max_payment_methods }}
            then joined.payment_method_name
        else 'Other'
    end as payment_method,
    joined.transaction_id,
    joined.quantity,
    joined.line_total,
    joined.profit
from joined
inner join category_ranks on joined.category_name = category_ranks.category_name
inner join state_ranks on joined.state_name = state_ranks.state_name
inner join payment_ranks on joined.payment_method_name = payment_ranks.payment_method_name
