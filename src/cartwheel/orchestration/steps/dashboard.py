"""dashboard: dashboard.html and dashboard_metadata.json, from the warehouse this run built."""

from __future__ import annotations

from cartwheel.orchestration.steps.context import StepContext, StepOutput
from cartwheel.reports import iso


def run(context: StepContext) -> StepOutput:
    from cartwheel.dashboard import build_dashboard

    engine = context.engine
    this_run = {
        "run_id": context.run_id,
        "started_at": iso(context.started_at),
        "steps": [
            {"step": r.name, "status": r.status, "seconds": round(r.seconds, 3), "rows": r.records}
            for r in context.results
        ],
    }
    result = build_dashboard(
        engine,
        context.output_dir,
        report_dirs=(context.output_dir, context.settings.data_dir),
        source={"database": engine.database_name},
        this_run=this_run,
    )
    return StepOutput(records=result.visuals)
