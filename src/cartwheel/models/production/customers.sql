-- The latest valid version of each customer.
with validated as (
    select * from staging.customers_validated
)

select
    customer_id,
    first_name,
    last_name,
    email,
    phone,
    registration_date,
    city,
    state,
    country,
    age_group
from validated
where reject_reason is null and version_rank = 1
