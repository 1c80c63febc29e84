-- Quantity and revenue per discount band.
-- Per discount percentage from ops.discount_sales (the warehouse step keeps it), not
-- every sale again; the averages are per order line.
with discounts as (
    select * from ops.discount_sales
),

banded as (
    -- The configured discount bands (ops.bands), in their order.
    select
        discounts.discount_percentage,
        discounts.order_lines,
        discounts.units,
        discounts.revenue,
        bands.position as band,
        bands.name as band_name
    from discounts
    {{ include band_of band_set=discount_range value=discounts.discount_percentage }}
)

select
    band_name as discount_range,
    cast(round(sum(discount_percentage * order_lines) / sum(order_lines), 2) as decimal(18, 2))
        as avg_discount_pct,
    cast(sum(units) as bigint) as total_quantity_sold,
    cast(round(sum(revenue), 2) as decimal(18, 2)) as total_revenue,
    cast(round(sum(revenue) / sum(order_lines), 2) as decimal(18, 2))
        as avg_line_total
from banded
group by band, band_name
order by band
