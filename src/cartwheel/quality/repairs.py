"""What cleansing changed in this run's promoted rows, counted per rule, and the values
outside the known vocabularies (passed through unchanged), for transformation_summary.json.

The validated models count each row's repairs (`repaired_*` columns) and mark values
outside the vocabulary (`unknown_*`); this sums them, in one query that reads each
validated table once.
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
    # total_amount differs from the sum of the order's promoted line totals (reconciled).
    (
        "total_amount_reconciled",
        "transactions",
        "case when raw_total_amount <> items_total then 1 else 0 end",
    ),
)
# (vocabulary, entity, marker column, value column)
_UNKNOWN = (
    ("age_group", "customers", "unknown_age_group", "age_group"),
    ("category", "products", "unknown_category", "category"),
    ("payment_method", "transactions", "unknown_payment_method", "payment_method"),
)
_THIS_RUN = "disposition = 'promoted' and batch_id in (select batch_id from ops.run_batches)"


def _measures() -> list[tuple[str, str, str]]:
    """(label, entity, aggregate) of every count, in report order."""
    measures = [(rule, entity, f"sum({expression})") for rule, entity, expression in _RULES]
    for name, entity, marker, column in _UNKNOWN:
        measures.append((f"unknown:{name}", entity, f"sum(case when {marker} then 1 else 0 end)"))
        measures.append(
            (f"distinct:{name}", entity, f"count(distinct case when {marker} then {column} end)")
        )
    return measures


def _summary_sql(measures: list[tuple[str, str, str]]) -> str:
    """One statement, one scan per validated table: a cross join of one-row aggregates."""
    scans = []
    for entity in dict.fromkeys(entity for _, entity, _ in measures):
        columns = ", ".join(
            f"{aggregate} as m{index}"
            for index, (_, owner, aggregate) in enumerate(measures)
            if owner == entity
        )
        scans.append(
            f"(select {columns} from staging.{entity}_validated where {_THIS_RUN}) as {entity}"
        )
    ordered = ", ".join(f"m{index}" for index in range(len(measures)))
    return f"select {ordered} from " + " cross join ".join(scans)


_MEASURES = _measures()
_SUMMARY_SQL = _summary_sql(_MEASURES)


def repair_summary(engine: Engine) -> dict[str, dict[str, int]]:
    """`repairs` (rule: values repaired) and `unknown_values` (vocabulary: rows and
    distinct values outside the configured vocabulary, kept as given)."""
    counts = [
        (label, int(value or 0))
        for (label, _, _), value in zip(_MEASURES, engine.query(_SUMMARY_SQL)[0], strict=True)
    ]
    distinct = {label: count for label, count in counts if label.startswith("distinct:")}
    repairs: dict[str, int] = {}
    unknown: dict[str, dict[str, int]] = {}
    for label, count in counts:
        kind, _, name = label.partition(":")
        if kind == "unknown":
            unknown[name] = {"rows": count, "values": distinct[f"distinct:{name}"]}
        elif kind != "distinct":
            repairs[label] = repairs.get(label, 0) + count
    return {"repairs": repairs, "unknown_values": unknown}
