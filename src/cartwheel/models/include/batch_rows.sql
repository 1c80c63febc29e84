-- The rows of staging.<entity> in the batches this run processes.
-- entity: the staging table (customers, products, transactions, transaction_items).
-- The batches this run processes (ops.run_batches, written by ingest).
select * from staging.{{ entity }}
where batch_id in (select batch_id from ops.run_batches)
