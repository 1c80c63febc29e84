-- The five payment methods the contract allows, with fixed keys: facts are appended per
-- batch and keep their payment_method_key, so a method first seen later must not
-- renumber the others. Cash on Delivery is the one offline method.
with methods as (
    select 1 as payment_method_key, 'Credit Card' as payment_method_name
    union all select 2, 'Debit Card'
    union all select 3, 'UPI'
    union all select 4, 'Cash on Delivery'
    union all select 5, 'Net Banking'
)

select
    payment_method_key,
    payment_method_name,
    case when payment_method_name = 'Cash on Delivery' then 'Offline' else 'Online' end
        as payment_type
from methods
