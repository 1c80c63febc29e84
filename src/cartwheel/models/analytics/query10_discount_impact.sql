-- Quantity and revenue per discount band.
with sales as (
    select * from warehouse.fact_sales
),

items as (
    select item_id, discount_percentage from production.transaction_items
),

banded as (
    select
        sales.quantity,
        sales.line_total,
        items.discount_percentage,
        case
            when items.discount_percentage = 0 then 1
            when items.discount_percentage <= 10 then 2
            when items.discount_percentage <= 25 then 3
            when items.discount_percentage <= 50 then 4
            else 5
        end as band
    from sales
    inner join items on sales.item_id = items.item_id
)

select
    case band
        when 1 then '0%'
        when 2 then '1-10%'
        when 3 then '11-25%'
        when 4 then '26-50%'
        else '50%+'
    end as discount_range,
    cast(round(avg(discount_percentage), 2) as decimal(18, 2)) as avg_discount_pct,
    sum(quantity) as total_quantity_sold,
    cast(round(sum(line_total), 2) as decimal(18, 2)) as total_revenue,
    cast(round(avg(line_total), 2) as decimal(18, 2)) as avg_line_total
from banded
group by band
order by band
