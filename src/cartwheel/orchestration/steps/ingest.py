"""ingest: the batch's raw files into staging, unparseable records into quarantine."""

from __future__ import annotations

import time

from cartwheel.orchestration.steps.context import PipelineError, StepContext, StepOutput
from cartwheel.reports import now_iso


def run(context: StepContext) -> StepOutput:
    from cartwheel.ingest import ingest
    from cartwheel.ingest.batches import Batch, register_batch
    from cartwheel.ingest.raw_files import InputError

    began = time.perf_counter()
    try:
        batch = context.batch or Batch(context.input_dir.name, context.input_dir, None)
        loads = ingest(
            context.engine,
            batch.folder,
            batch_id=batch.batch_id,
            run_id=context.run_id,
            vocabulary=context.settings.vocabulary,
            tables_ready=context.tables_ready,
        )
        register_batch(context.engine, batch, context.run_id, context.tables_ready)
    except InputError as error:
        raise PipelineError(str(error)) from error
    context.write_report(
        "ingestion_summary.json",
        {
            "ingestion_timestamp": now_iso(),
            "tables_loaded": {
                load.table: {
                    "rows_loaded": load.rows_loaded,
                    "status": load.status,
                    "error_message": load.error_message,
                    "source_file": load.source,
                    "execution_time_seconds": round(load.seconds, 3),
                }
                for load in loads
            },
            "total_execution_time_seconds": round(time.perf_counter() - began, 3),
        },
    )
    rows = sum(load.rows_loaded for load in loads)
    return StepOutput(records=rows, rows_in=rows)
