"""warehouse: dimensions (SCD2), facts and aggregates brought up to date with the batch."""

from __future__ import annotations

from cartwheel.orchestration.steps.context import StepContext, StepOutput
from cartwheel.warehouse import build_warehouse


def run(context: StepContext) -> StepOutput:
    rows = build_warehouse(context.engine)
    return StepOutput(records=rows["warehouse.fact_sales"])
