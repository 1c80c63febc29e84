"""quality: validate, quarantine, check and score; the gate stops a bad batch before
production."""

from __future__ import annotations

from cartwheel.orchestration.steps.context import StepContext, StepOutput, StepStopped


def run(context: StepContext) -> StepOutput:
    from cartwheel.quality.report import keep_history, run_quality, with_earlier_batches

    outcome = run_quality(
        context.engine,
        context.run_id,
        context.settings.quality_min_score,
        context.settings.quality_thresholds,
        context.batch_folder,  # its defect_ledger.csv, if the generator wrote one, is scored
        context.tables_ready,
    )
    context.tables_ready = True
    context.conservation = outcome.conservation
    name = "quality_report.json"
    context.write_report(name, with_earlier_batches(context.earlier_report(name), outcome.report))
    if not outcome.passed:
        raise StepStopped(
            "quality gate stopped the run before production: " + "; ".join(outcome.gate_reasons),
            keep=lambda engine: keep_history(engine, context.run_id, outcome),
        )
    rows_in = sum(row["rows_in"] for row in outcome.conservation)
    return StepOutput(records=rows_in, rows_in=rows_in)
