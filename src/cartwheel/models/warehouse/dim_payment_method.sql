-- Payment methods with stable keys: facts are appended per batch and keep their
-- payment_method_key, so a method keeps its key once given. The configured methods
-- (vocabulary.canonical.payment_method, in their order) come first; any other method in
-- the data (a shop's own, e.g. PayPal) is appended after the highest key, by name.
-- Offline: the configured offline methods (Cash on Delivery); every other is Online.
with kept as (
    select payment_method_key, payment_method_name from warehouse.dim_payment_method
),

candidates as (
    select canonical as payment_method_name, min(position) as position
    from ops.vocabulary
    where vocabulary = 'payment_method'
    group by canonical
    union all
    select distinct payment_method, 1000000000
    from production.transactions
    where payment_method is not null
        and payment_method not in (
            select canonical from ops.vocabulary where vocabulary = 'payment_method'
        )
),

added as (
    select
        (select coalesce(max(payment_method_key), 0) from kept)
        + row_number() over (order by position, payment_method_name) as payment_method_key,
        payment_method_name
    from candidates
    where payment_method_name not in (select payment_method_name from kept)
),

methods as (
    select payment_method_key, payment_method_name from kept
    union all
    select payment_method_key, payment_method_name from added
)

select
    methods.payment_method_key,
    methods.payment_method_name,
    case
        when methods.payment_method_name in (
            select canonical from ops.vocabulary where vocabulary = 'offline_payment_method'
        ) then 'Offline'
        else 'Online'
    end as payment_type
from methods
