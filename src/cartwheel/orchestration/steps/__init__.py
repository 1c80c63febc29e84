"""The steps of a run, in dependency order: one entry each, its work in a module of its own.

Adding a step = its module (a `run(context) -> StepOutput`) and one entry below; the
runner (orchestration.step_runner) gives every step retries, attempt history, batches and its
line in the reports. A step module imports its work inside `run`, so that this table (and
`cartwheel --help`) loads no duckdb, pyarrow or numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from cartwheel.contract import ENTITIES
from cartwheel.orchestration.steps import (
    analytics,
    dashboard,
    generate,
    ingest,
    production,
    quality,
    warehouse,
)
from cartwheel.orchestration.steps.context import StepContext, StepOutput

STAGING = tuple(f"staging.{entity}" for entity in ENTITIES)
PRODUCTION = tuple(f"production.{entity}" for entity in ENTITIES)
WAREHOUSE = tuple(
    f"warehouse.{table}"
    for table in (
        "dim_date",
        "dim_customers",
        "dim_products",
        "dim_payment_method",
        "fact_sales",
        "agg_daily_sales",
        "agg_product_performance",
        "agg_customer_metrics",
    )
)
QUALITY = ("ops.quality_results", "ops.quarantine")


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[StepContext], StepOutput]
    #: Runs once per input batch (daily folders are loaded one at a time, oldest first).
    per_batch: bool = False
    #: A per-batch step that may run once over several consecutive daily batches, after
    #: the other per-batch steps of each (its result is the same as one run per batch).
    spans_batches: bool = False
    #: Over several batches, `total` adds up the rows handled; `latest` keeps the last
    #: batch's count (a table's rows, a state).
    records: Literal["total", "latest"] = "total"
    #: Its records are the run's rows out (`ops.pipeline_runs.rows_out`).
    run_output: bool = False
    #: Tables read and written (lineage events name them).
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()


STEPS: dict[str, Step] = {
    step.name: step
    for step in (
        Step("generate", generate.run),
        Step("ingest", ingest.run, per_batch=True, writes=STAGING),
        Step("quality", quality.run, per_batch=True, reads=STAGING, writes=QUALITY),
        Step("production", production.run, per_batch=True, reads=STAGING, writes=PRODUCTION),
        Step(
            "warehouse",
            warehouse.run,
            per_batch=True,
            spans_batches=True,
            records="latest",
            run_output=True,
            reads=PRODUCTION,
            writes=WAREHOUSE,
        ),
        Step("analytics", analytics.run, reads=WAREHOUSE),
        Step("dashboard", dashboard.run, reads=WAREHOUSE + QUALITY),
    )
}

#: The per-batch step that finds the batches to load (ingest).
LOADS_BATCHES = next(name for name, step in STEPS.items() if step.per_batch)
