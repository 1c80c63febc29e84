-- The payment methods seen in production; Cash on Delivery is the one offline method.
with methods as (
    select distinct payment_method from production.transactions
)

select
    row_number() over (order by payment_method) as payment_method_key,
    payment_method as payment_method_name,
    case when payment_method = 'Cash on Delivery' then 'Offline' else 'Online' end
        as payment_type
from methods
