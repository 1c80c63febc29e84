"""The steps of a run, in dependency order: one entry each, its work in a module of its own.

Adding a step = its module (a `run(context) -> StepOutput`) and one entry below; the
runner (orchestration.step_runner) gives every step retries, attempt history, batches and its
line in the reports. A step module imports its work inside `run`, so that this table (and
`cartwheel --help`) loads no duckdb, pyarrow or numpy.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from cartwheel.contract import ENTITIES
from cartwheel.engines import engine_class
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

if TYPE_CHECKING:
    from cartwheel.config import Settings

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

#: The module that runs the steps (it imports this one).
RUNNER = "cartwheel.orchestration.pipeline"
#: What the step modules import inside `run` (tests/test_step_work.py keeps it exact).
STEP_WORK = (
    "cartwheel.generate",
    "cartwheel.ingest",
    "cartwheel.ingest.batches",
    "cartwheel.ingest.raw_files",
    "cartwheel.quality.report",
    "cartwheel.production",
    "cartwheel.quality.conservation",
    "cartwheel.quality.repairs",
    "cartwheel.warehouse",
    "cartwheel.analytics",
    "cartwheel.dashboard",
)
#: The generate step's work: a run over --input skips that step, so not imported for it.
GENERATOR_WORK = "cartwheel.generate"


def load_step_work(settings: Settings) -> None:
    """Import every step's work at once with the garbage collector paused, then freeze it.

    For `cartwheel run`, which needs them all (the generator only without --input), the
    runner and the settings' engine. Like the CLI's own modules (see `__main__`), they live
    as long as the process; imported step by step, they were scanned by the collections in
    between (a scale-factor-1 run: 77 collections instead of 17).
    """
    gc.disable()
    try:
        for module in (RUNNER, *STEP_WORK):
            if module != GENERATOR_WORK or settings.input_dir is None:
                importlib.import_module(module)
        engine_class(settings)
    finally:
        gc.freeze()
        gc.enable()
