-- Joins `bands`, the band of the configured set (ops.bands, written from
-- vocabulary.BandSet) that a value falls in: lower_bound <= value < upper_bound, a
-- missing bound being open. bands.position orders the bands, bands.name names them.
-- band_set: price_category, discount_range or spending_segment; value: the column.
inner join ops.bands as bands
    on bands.band_set = '{{ band_set }}'
    and ({{ value }} >= bands.lower_bound or bands.lower_bound is null)
    and ({{ value }} < bands.upper_bound or bands.upper_bound is null)
