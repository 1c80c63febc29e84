-- Revenue per order date and product category: the forecast's daily series in one pass.
select
    dates.full_date,
    products.category,
    sum(sales.line_total) as revenue
from warehouse.fact_sales as sales
inner join warehouse.dim_date as dates on sales.date_key = dates.date_key
inner join warehouse.dim_products as products on sales.product_key = products.product_key
group by dates.full_date, products.category
