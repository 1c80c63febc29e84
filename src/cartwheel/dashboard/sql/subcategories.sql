-- Sub-categories per month (a sub-category belongs to its category).
with subs as (
    select * from {{ sub_category_months }}
),

sub_category_ranks as (
    select
        category_name,
        sub_category,
        row_number() over (order by sum(revenue) desc, category_name, sub_category)
            as sub_category_rank
    from subs
    group by category_name, sub_category
)

select
    subs.month_key,
    subs.category_name as category,
    case
        when sub_category_ranks.sub_category_rank <= {{ max_sub_categories }}
            then subs.sub_category
        else 'Other'
    end as sub_category,
    cast(round(sum(subs.revenue), 4) as double) as revenue,
    cast(round(sum(subs.profit), 4) as double) as profit,
    cast(sum(subs.units) as bigint) as units
from subs
inner join sub_category_ranks
    on subs.category_name = sub_category_ranks.category_name
    and subs.sub_category = sub_category_ranks.sub_category
group by subs.month_key, subs.category_name, 3
order by 1, 2, 3
