-- The sales queued since the last warehouse pass (small): the earliest sale per
-- customer and product, to stretch a first version back to it if needed.
create temporary table wh_batch_sales as
select product_id, customer_id, transaction_date
from ops.warehouse_backlog
