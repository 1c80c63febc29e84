"""OpenLineage events: START and COMPLETE/FAIL for the run and each step, with the
step's datasets, to the data folder's JSON-lines file or to a local HTTP endpoint."""

from __future__ import annotations

import json
import socket
import uuid
from pathlib import Path

import pytest

from cartwheel.config import LineageSettings, Settings
from cartwheel.contract import ENTITIES
from cartwheel.generate import generate
from cartwheel.orchestration import Pipeline, PipelineError
from tests.test_alerts import Webhook, free_port

STEPS = ["ingest", "quality", "production", "warehouse", "analytics", "dashboard"]
EVENT_KEYS = "eventType eventTime run job inputs outputs producer schemaURL".split()
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lineage") / "shop"
    generate(folder, scale=0.05, seed=5)
    return folder


def events_of(data_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (data_dir / "openlineage.jsonl").read_text().splitlines()]


def sequence(events: list[dict]) -> list[tuple[str, str]]:
    return [(e["eventType"], e["job"]["name"].removeprefix("cartwheel.")) for e in events]


def names(datasets: list[dict]) -> set[str]:
    return {d["name"] for d in datasets}


def test_a_run_emits_start_and_complete_for_itself_and_each_step(
    tmp_path: Path, shop: Path
) -> None:
    data_dir = tmp_path / "data"
    Pipeline(Settings(data_dir=data_dir, input_dir=shop)).run()
    events = events_of(data_dir)
    expected = [("START", "run")]
    for step in STEPS:
        expected += [("START", step), ("COMPLETE", step)]
    assert sequence(events) == expected + [("COMPLETE", "run")]
    run_id = events[0]["run"]["runId"]
    assert uuid.UUID(run_id).version == 4
    for event in events:
        assert set(event) == set(EVENT_KEYS)
        assert event["schemaURL"] == SCHEMA_URL and event["eventTime"].endswith("Z")
        assert event["job"]["namespace"] == "cartwheel"
        assert event["producer"].startswith("urn:cartwheel:")
    steps = [e for e in events if e["job"]["name"] != "cartwheel.run"]
    assert {e["run"]["facets"]["parent"]["run"]["runId"] for e in steps} == {run_id}
    assert len({e["run"]["runId"] for e in steps}) == len(STEPS)  # one run id per step
    by_step = {e["job"]["name"]: e for e in steps if e["eventType"] == "COMPLETE"}
    raw = {str((shop / f"{entity}.csv").resolve()) for entity in ENTITIES}
    ingest = by_step["cartwheel.ingest"]
    assert names(ingest["inputs"]) == raw
    assert names(ingest["outputs"]) == {f"staging.{entity}" for entity in ENTITIES}
    assert {d["namespace"] for d in ingest["outputs"]} == {
        f"duckdb://{socket.gethostname()}{(data_dir / 'cartwheel.duckdb').resolve()}"
    }
    assert "warehouse.fact_sales" in names(by_step["cartwheel.warehouse"]["outputs"])
    analytics = names(by_step["cartwheel.analytics"]["outputs"])
    assert str((data_dir / "analytics" / "query1_top_products.csv").resolve()) in analytics
    assert str((data_dir / "analytics" / "analytics_summary.json").resolve()) in analytics
    assert all(Path(name).exists() for name in analytics)  # named where they were published
    dashboard = names(by_step["cartwheel.dashboard"]["outputs"])
    assert str((data_dir / "dashboard.html").resolve()) in dashboard
    finished = events[-1]
    assert names(finished["inputs"]) == raw  # what the run read and did not make
    assert {"warehouse.fact_sales", "production.customers"} <= names(finished["outputs"])


def test_a_stopped_run_emits_fail_with_the_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    generate(bad, scale=0.05, seed=5, defect_rate=0.05)
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir, input_dir=bad, quality_min_score=99.9)
    with pytest.raises(PipelineError):
        Pipeline(settings).run()
    events = events_of(data_dir)
    assert sequence(events) == [
        ("START", "run"),
        ("START", "ingest"),
        ("COMPLETE", "ingest"),
        ("START", "quality"),
        ("FAIL", "quality"),
        ("FAIL", "run"),
    ]
    step_error = events[4]["run"]["facets"]["errorMessage"]
    assert step_error["message"].startswith("quality gate stopped the run before production")
    assert step_error["programmingLanguage"] == "python"
    assert "quality gate stopped the run" in events[5]["run"]["facets"]["errorMessage"]["message"]


def test_events_go_to_an_http_endpoint_with_a_bearer_token(tmp_path: Path, shop: Path) -> None:
    hook = Webhook()
    try:
        lineage = LineageSettings(url=hook.url, api_key="tok-van-der-Berg")
        Pipeline(Settings(data_dir=tmp_path / "data", input_dir=shop, lineage=lineage)).run()
    finally:
        hook.close()
    assert sequence(hook.posts)[0] == ("START", "run")
    assert sequence(hook.posts)[-1] == ("COMPLETE", "run")
    assert len(hook.posts) == 2 + 2 * len(STEPS)
    assert {h["Authorization"] for h in hook.headers} == {"Bearer tok-van-der-Berg"}
    assert not (tmp_path / "data" / "openlineage.jsonl").exists()
    logs = "".join(p.read_text() for p in (tmp_path / "data" / "logs").glob("*.jsonl"))
    assert "tok-van-der-Berg" not in logs


def test_a_dead_endpoint_is_logged_once_and_the_events_kept_in_the_file(
    tmp_path: Path, shop: Path
) -> None:
    data_dir = tmp_path / "data"
    lineage = LineageSettings(url=f"http://127.0.0.1:{free_port()}/api/v1/lineage")
    Pipeline(Settings(data_dir=data_dir, input_dir=shop, lineage=lineage)).run()
    assert len(events_of(data_dir)) == 2 + 2 * len(STEPS)
    logs = "".join(p.read_text() for p in (data_dir / "logs").glob("*.jsonl"))
    assert logs.count("lineage endpoint http://127.0.0.1:") == 1


def test_lineage_can_be_turned_off(tmp_path: Path, shop: Path) -> None:
    lineage = LineageSettings(enabled=False)
    Pipeline(Settings(data_dir=tmp_path / "data", input_dir=shop, lineage=lineage)).run()
    assert not (tmp_path / "data" / "openlineage.jsonl").exists()


def test_postgres_tables_are_named_after_server_and_database_without_the_password(
    tmp_path: Path,
) -> None:
    from cartwheel.orchestration.lineage import LineageEmitter

    url = "postgresql://etl:s3cret@db.shop.example:6543/shop"
    settings = Settings(data_dir=tmp_path, engine="postgres", database_url=url)
    dataset = LineageEmitter(Pipeline(settings)).table("warehouse.fact_sales")
    assert dataset == {
        "namespace": "postgres://db.shop.example:6543",
        "name": "shop.warehouse.fact_sales",
    }
