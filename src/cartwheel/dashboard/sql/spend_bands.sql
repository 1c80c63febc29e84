-- The configured spend bands, in order (the `band` of customers.sql is the position).
select name from ops.bands where band_set = 'spending_segment' order by position
