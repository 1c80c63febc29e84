-- Quantity and revenue per discount band.
with sales as (
    select * from warehouse.fact_sales
),

items as (
    select item_id, discount_percentage from production.transaction_items
),

banded as (
    -- The configured discount bands (ops.bands), in their order.
    select
        sales.quantity,
        sales.line_total,
        items.discount_percentage,
        bands.position as band,
        bands.name as band_name
    from sales
    inner join items on sales.item_id = items.item_id
    {{ include band_of band_set=discount_range value=items.discount_percentage }}
)

select
    band_name as discount_range,
    cast(round(avg(discount_percentage), 2) as decimal(18, 2)) as avg_discount_pct,
    sum(quantity) as total_quantity_sold,
    cast(round(sum(line_total), 2) as decimal(18, 2)) as total_revenue,
    cast(round(avg(line_total), 2) as decimal(18, 2)) as avg_line_total
from banded
group by band, band_name
order by band
