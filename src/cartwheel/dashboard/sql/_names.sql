-- Built once as a temporary table: how each state and payment method is shown, its name
-- or 'Other' past the caps, ranked by revenue.
with cells as (
    select * from {{ sales_cells }}
),

state_ranks as (
    select
        state_name,
        row_number() over (order by sum(revenue) desc, state_name) as state_rank
    from cells
    group by state_name
),

payment_ranks as (
    select
        payment_method_name,
        row_number() over (order by sum(revenue) desc, payment_method_name) as payment_rank
    from cells
    group by payment_method_name
)

select
    'state' as kind,
    state_name as name,
    case when state_rank <= {{ max_states }} then state_name else 'Other' end as shown
from state_ranks
union all
select
    'payment_method' as kind,
    payment_method_name as name,
    case
        when payment_rank <= {{ max_payment_methods }} then payment_method_name
        else 'Other'
    end as shown
from payment_ranks
