-- Sub-categories per month (a sub-category belongs to its category).
with lines as (
    select * from dashboard_lines
),

sub_category_ranks as (
    select
        category,
        sub_category,
        row_number() over (order by sum(line_total) desc, category, sub_category)
            as sub_category_rank
    from lines
    group by category, sub_category
)

select
    lines.month_key,
    lines.category,
    case
        when sub_category_ranks.sub_category_rank <= {{ max_sub_categories }}
            then lines.sub_category
        else 'Other'
    end as sub_category,
    cast(round(sum(lines.line_total), 4) as double) as revenue,
    cast(round(sum(lines.profit), 4) as double) as profit,
    cast(sum(lines.quantity) as bigint) as units
from lines
inner join sub_category_ranks
    on lines.category = sub_category_ranks.category
    and lines.sub_category = sub_category_ranks.sub_category
group by lines.month_key, lines.category, 3
order by 1, 2, 3
