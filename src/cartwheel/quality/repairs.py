"""What cleansing changed in this run's promoted rows, counted per rule, and the values
outside the known vocabularies (passed through unchanged), for transformation_summary.json.

The validated models count each row's repairs (`repaired_*` columns) and mark values
outside the vocabulary (`unknown_*`); this sums them, in one query.
"""

from __future__ import annotations

from cartwheel.engines import Engine

# (rule, entity, SQL summed over the entity's promoted rows of this run)
_RULES = (
    ("padding_trimmed", "customers", "repaired_padding"),
    ("padding_trimmed", "products", "repaired_padding"),
    ("padding_trimmed", "transactions", "repaired_padding"),
    ("name_recased", "customers", "repaired_name_case"),
    ("email_lower_cased", "customers", "repaired_email_case"),
    ("phone_digits_only", "customers", "repaired_phone"),
    ("canonical_age_group", "customers", "repaired_spelling"),
    ("canonical_category", "products", "repaired_spelling"),
    ("canonical_payment_method", "transactions", "repaired_spelling"),
    (
        "line_total_recomputed",
        "transaction_items",
        "case when raw_line_total <> line_total then 1 else 0 end",
    ),
)
# (vocabulary, entity, marker column, value column)
_UNKNOWN = (
    ("age_group", "customers", "unknown_age_group", "age_group"),
    ("category", "products", "unknown_category", "category"),
    ("payment_method", "transactions", "unknown_payment_method", "payment_method"),
)
_THIS_RUN = "disposition = 'promoted' and batch_id in (select batch_id from ops.run_batches)"
# total_amount differs from the sum of the order's promoted line totals (reconciled).
_RECONCILED = """
    select 'total_amount_reconciled', count(*), 0
    from staging.transactions_validated as t
    inner join (
        select transaction_id, sum(line_total) as items_total
        from staging.transaction_items_validated
        where disposition = 'promoted'
        group by transaction_id
    ) as i on i.transaction_id = t.transaction_id
    where t.disposition = 'promoted'
        and t.batch_id in (select batch_id from ops.run_batches)
        and t.raw_total_amount <> i.items_total
"""


def repair_summary(engine: Engine) -> dict[str, dict[str, int]]:
    """`repairs` (rule: values repaired) and `unknown_values` (vocabulary: rows and
    distinct values outside the configured vocabulary, kept as given)."""
    parts = [
        f"select '{rule}', sum({expression}), 0 from staging.{entity}_validated where {_THIS_RUN}"
        for rule, entity, expression in _RULES
    ]
    parts += [
        f"select 'unknown:{name}', sum(case when {marker} then 1 else 0 end), "
        f"count(distinct case when {marker} then {column} end) "
        f"from staging.{entity}_validated where {_THIS_RUN}"
        for name, entity, marker, column in _UNKNOWN
    ]
    parts.append(_RECONCILED)
    repairs: dict[str, int] = {}
    unknown: dict[str, dict[str, int]] = {}
    for rule, count, distinct in engine.query(" union all ".join(parts)):
        if rule.startswith("unknown:"):
            unknown[rule.split(":", 1)[1]] = {"rows": int(count or 0), "values": int(distinct)}
        else:
            repairs[rule] = repairs.get(rule, 0) + int(count or 0)
    return {"repairs": repairs, "unknown_values": unknown}
