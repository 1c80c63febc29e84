-- Revenue per order date and product category: the forecast's daily series, from the
-- sums the warehouse step keeps per day (ops.daily_category_sales), not every sale.
select
    dates.full_date,
    sales.category,
    sales.revenue
from ops.daily_category_sales as sales
inner join warehouse.dim_date as dates on sales.date_key = dates.date_key
