"""production: the validated rows merged into the 3NF tables, with the transformation
summary (counts, conservation, repairs)."""

from __future__ import annotations

from cartwheel.orchestration.steps.context import StepContext, StepOutput
from cartwheel.reports import now_iso

TRANSFORMATIONS = [
    "trim text fields",
    "lower-case emails",
    "digits-only phone numbers",
    "re-case first and last names only when entirely upper or lower case",
    "canonical spellings of known categories, payment methods and age groups "
    "(unknown values kept as given and counted)",
    "exact duplicate rows removed (first occurrence kept); of two rows with one "
    "transaction or item id the latest wins",
    "rows breaking a rule quarantined with a reason code; an order is promoted "
    "whole or not at all (its items follow a rejected transaction, a rejected "
    "item holds back its transaction)",
    "line_total recomputed as round(quantity * unit_price * (1 - discount/100), 2)",
    "total_amount reconciled to the sum of promoted line totals",
    "profit_margin and price_category on products",
    "latest version per customer and product (upsert); transactions and items appended by id",
]


def run(context: StepContext) -> StepOutput:
    from cartwheel.production import load_production
    from cartwheel.quality.conservation import conservation, equation, records_processed
    from cartwheel.quality.repairs import repair_summary
    from cartwheel.quality.report import transformation_with_earlier_batches

    engine = context.engine
    merges = load_production(engine, context.tables_ready)
    context.tables_ready = True
    # Once for both uses below; the quality step's, when it ran for this batch.
    balance = context.conservation if context.conservation is not None else conservation(engine)
    summary = {
        "transformation_timestamp": now_iso(),
        "run_id": context.run_id,
        "records_processed": records_processed(engine, merges, balance),
        "conservation": [equation(row) for row in balance],
        **repair_summary(engine),
        "transformations_applied": TRANSFORMATIONS,
    }
    name = "transformation_summary.json"
    # A run over several batches: every batch's counts and equation are kept.
    earlier = context.earlier_report(name)
    context.write_report(name, transformation_with_earlier_batches(earlier, summary))
    return StepOutput(records=sum(m.input for m in merges))
