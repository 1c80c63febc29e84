"""analytics: the ten query CSVs, the forecast and analytics_summary.json."""

from __future__ import annotations

from cartwheel.orchestration.steps.context import StepContext, StepOutput


def run(context: StepContext) -> StepOutput:
    from cartwheel.analytics import run_analytics
    from cartwheel.warehouse import fill_missing_kept_sums

    fill_missing_kept_sums(context.engine)
    summary = run_analytics(context.engine, context.analytics_dir, context.settings.forecast_days)
    return StepOutput(records=summary["queries_executed"])
