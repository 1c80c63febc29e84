-- Joins `spellings`, the canonical value of a known spelling (ops.vocabulary, written
-- from cartwheel.vocabulary): `coalesce(spellings.canonical, value)` is then the value
-- in its canonical spelling, or as given when it is not a known one. The spelling key is
-- vocabulary.spelling_key's: lower case, runs of spaces and underscores as one space.
-- vocabulary: category, payment_method or age_group; value: the trimmed column.
left join ops.vocabulary as spellings
    on spellings.vocabulary = '{{ vocabulary }}'
    and spellings.spelling = lower(regexp_replace({{ value }}, '[\s_]+', ' ', 'g'))
