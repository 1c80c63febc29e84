"""warehouse: dimensions (SCD2), facts and aggregates brought up to date with the batch."""

from __future__ import annotations

from cartwheel.contract import ENTITIES
from cartwheel.orchestration.steps.context import PipelineError, StepContext, StepOutput

# This run's input: staged rows plus records rejected at ingest.
ROWS_READ = " + ".join(
    [
        f"(select count(*) from staging.{entity} "
        "where batch_id in (select batch_id from ops.run_batches))"
        for entity in ENTITIES
    ]
    + [
        "(select count(*) from ops.quarantine where stage = 'ingest' "
        "and batch_id in (select batch_id from ops.run_batches))"
    ]
)


def run(context: StepContext) -> StepOutput:
    from cartwheel.warehouse import build_warehouse

    rows = build_warehouse(context.engine)
    if not rows["warehouse.fact_sales"]:
        # Never publish an empty warehouse from non-empty input as a success.
        read = int(context.engine.scalar(f"select {ROWS_READ}") or 0)
        if read:
            raise PipelineError(
                f"the warehouse would be empty: {read:,} rows read, no sale promoted "
                "(quality_report.json: quarantined_rows says why)"
            )
    return StepOutput(records=rows["warehouse.fact_sales"])
