"""The Dagster integration: the layers as assets with the run's metadata, materialized
in-process, and the daily schedule."""

from __future__ import annotations

from pathlib import Path

import pytest

from cartwheel.config import Settings
from cartwheel.contract import ENTITIES
from cartwheel.generate import generate

dagster = pytest.importorskip(
    "dagster", reason="dagster not installed: pip install 'cartwheel[dagster]'"
)

LAYERS = ["raw", "staging", "production", "warehouse", "analytics", "dashboard"]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dagster") / "shop"
    generate(folder, scale=0.05, seed=11)
    return folder


def test_definitions_expose_the_layers_in_order_and_the_daily_schedule(tmp_path: Path) -> None:
    from cartwheel.integrations.dagster import build_definitions

    settings = Settings(
        data_dir=tmp_path, schedule_cron="30 3 * * *", schedule_timezone="Europe/Dublin"
    )
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    keys = [key.to_user_string() for key in graph.get_all_asset_keys()]
    assert sorted(keys) == sorted(LAYERS)
    for child, parent in zip(LAYERS[1:], LAYERS, strict=False):
        parents = graph.get(dagster.AssetKey(child)).parent_keys
        assert parents == {dagster.AssetKey(parent)}
    schedule = defs.resolve_schedule_def("cartwheel_daily_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 3 * * *", "Europe/Dublin")
    assert schedule.job_name == "cartwheel_daily"


def test_materializing_runs_the_pipeline_and_records_counts_and_quality(
    tmp_path: Path, shop: Path
) -> None:
    from cartwheel.integrations.dagster import build_definitions

    data_dir = tmp_path / "data"
    defs = build_definitions(Settings(data_dir=data_dir, input_dir=shop))
    result = defs.resolve_job_def("cartwheel_daily").execute_in_process()
    assert result.success
    events = result.get_asset_materialization_events()
    metadata = {
        e.asset_key.to_user_string(): {k: v.value for k, v in e.materialization.metadata.items()}
        for e in events
    }
    assert sorted(metadata) == sorted(LAYERS)
    assert len({m["run_id"] for m in metadata.values()}) == 1
    staging = metadata["staging"]
    assert staging["rows"] == sum(staging[f"rows_{entity}"] for entity in ENTITIES)
    assert staging["rows_customers"] == 50  # scale 0.05 of 1,000 customers
    assert 0 <= staging["quality_score"] <= 100 and staging["quality_grade"] in "ABCDF"
    assert metadata["warehouse"]["rows"] > 0
    assert metadata["analytics"]["queries"] == 10
    assert Path(metadata["dashboard"]["path"]).exists()
    assert (data_dir / "cartwheel.duckdb").exists()


def test_a_failed_run_fails_the_materialization_with_its_message(tmp_path: Path) -> None:
    from cartwheel.integrations.dagster import build_definitions

    settings = Settings(data_dir=tmp_path / "data", input_dir=tmp_path / "no-such-export")
    job = build_definitions(settings).resolve_job_def("cartwheel_daily")
    result = job.execute_in_process(raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "input folder not found" in str(failure.event_specific_data.error)
