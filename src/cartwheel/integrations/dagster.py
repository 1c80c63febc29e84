"""cartwheel's layers as Dagster assets: raw -> staging -> production -> warehouse ->
analytics -> dashboard, with the daily schedule (`pip install 'cartwheel[dagster]'`).

    dagster dev -m cartwheel.integrations.dagster

One materialization is one `cartwheel run` (under its lock, published atomically, with
its quality gate), so the six assets are materialized together; each gets the run's
row counts, timings and quality score as metadata. Settings come from `cartwheel.yaml`
and `CARTWHEEL_*` variables as for the command line, or from `build_definitions(settings)`.
"""

# No `from __future__ import annotations`: Dagster reads the context's annotation.
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetSelection,
    AssetSpec,
    Definitions,
    Failure,
    MaterializeResult,
    MetadataValue,
    ScheduleDefinition,
    define_asset_job,
    multi_asset,
)

from cartwheel.config import Settings, load_settings
from cartwheel.orchestration import Pipeline, PipelineError
from cartwheel.orchestration.lock import LockBusy
from cartwheel.orchestration.pipeline import StepResult

#: Each asset, the layer before it, what it is, and the steps that make it.
LAYERS = (
    ("raw", None, "The four raw files (generated, or the shop's own with --input).", "generate"),
    ("staging", "raw", "Raw rows loaded into the staging schema, with lineage.", "ingest"),
    ("production", "staging", "Cleansed 3NF tables (past the quality gate).", "production"),
    ("warehouse", "production", "Star schema with SCD2 dimensions and aggregates.", "warehouse"),
    ("analytics", "warehouse", "The analytics CSVs, the forecast and their summary.", "analytics"),
    ("dashboard", "analytics", "dashboard.html, self-contained, opens offline.", "dashboard"),
)  # fmt: skip
GROUP = "cartwheel"


def _report(data_dir: Path, name: str) -> dict[str, Any]:
    try:
        return json.loads((data_dir / name).read_text())
    except (OSError, ValueError):
        return {}


def layer_metadata(settings: Settings, pipeline: Pipeline) -> dict[str, dict[str, Any]]:
    """Per asset: the run's row counts and timings, and what each layer's report says."""
    results: dict[str, StepResult] = {r.name: r for r in pipeline.results}
    data = settings.data_dir
    quality = _report(data, "quality_report.json")
    loaded = _report(data, "ingestion_summary.json").get("tables_loaded", {})
    analytics = _report(settings.analytics_dir, "analytics_summary.json")
    metadata: dict[str, dict[str, Any]] = {}
    for asset, _, _, step in LAYERS:
        result = results.get(step)
        entry: dict[str, Any] = {"run_id": pipeline.run_id}
        if result is not None:
            entry |= {"rows": result.records, "seconds": round(result.seconds, 3)}
        metadata[asset] = entry
    metadata["raw"]["folder"] = MetadataValue.path(str(pipeline.input_dir))
    metadata["staging"] |= {
        f"rows_{table}": info.get("rows_loaded") for table, info in loaded.items()
    }
    metadata["staging"] |= {
        "quality_score": quality.get("overall_quality_score"),
        "quality_grade": quality.get("quality_grade"),
    }
    metadata["production"]["quality_score"] = quality.get("overall_quality_score")
    metadata["warehouse"]["location"] = settings.warehouse_location
    backtest = analytics.get("forecast_backtest") or {}
    metadata["analytics"] |= {
        "queries": analytics.get("queries_executed"),
        "forecast_smape": backtest.get("smape"),
        "seasonal_naive_smape": backtest.get("seasonal_naive_smape"),
    }
    metadata["dashboard"]["path"] = MetadataValue.path(str(data / "dashboard.html"))
    return {
        asset: {key: value for key, value in entry.items() if value is not None}
        for asset, entry in metadata.items()
    }


def build_definitions(settings: Settings | None = None) -> Definitions:
    """The assets, a job that materializes them, and its daily schedule."""
    chosen = settings
    specs = [
        AssetSpec(asset, deps=[parent] if parent else [], description=text, group_name=GROUP)
        for asset, parent, text, _ in LAYERS
    ]

    @multi_asset(specs=specs, name="cartwheel_run", can_subset=False)
    def cartwheel_run(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
        """One `cartwheel run`: every layer, under the lock, published at once."""
        run_settings = chosen or load_settings()
        pipeline = Pipeline(run_settings, trigger="dagster")
        try:
            pipeline.run()
        except (PipelineError, LockBusy) as error:
            raise Failure(description=str(error)) from error
        context.log.info(f"cartwheel run {pipeline.run_id} published")
        for asset, values in layer_metadata(run_settings, pipeline).items():
            yield MaterializeResult(asset_key=asset, metadata=values)

    job = define_asset_job("cartwheel_daily", selection=AssetSelection.assets(cartwheel_run))
    when = chosen or load_settings()
    schedule = ScheduleDefinition(
        job=job, cron_schedule=when.schedule_cron, execution_timezone=when.schedule_timezone
    )
    return Definitions(assets=[cartwheel_run], jobs=[job], schedules=[schedule])


defs = build_definitions()
