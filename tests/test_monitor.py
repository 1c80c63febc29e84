"""`cartwheel monitor`: the five checks on a real warehouse, thresholds, the health score
from the alerts, the report's exact keys, exit codes and the Prometheus file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

from cartwheel.cli import app
from cartwheel.config import Settings
from cartwheel.generate import generate
from cartwheel.orchestration import Pipeline
from cartwheel.orchestration.monitor import monitor, prometheus_text

CHECKS = [
    "last_execution",
    "data_freshness",
    "data_volume_anomalies",
    "data_quality",
    "database_connectivity",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder after one successful run (scale 0.1)."""
    root = tmp_path_factory.mktemp("monitor")
    generate(root / "shop", scale=0.1, seed=5)
    Pipeline(Settings(data_dir=root / "data", input_dir=root / "shop")).run()
    return root / "data"


def with_quality(data_dir: Path, score: float) -> None:
    (data_dir / "quality_report.json").write_text(
        json.dumps(
            {
                "check_timestamp": "2026-01-01T00:00:00+00:00",
                "overall_quality_score": score,
                "quality_grade": "A",
            }
        )
    )


def invoke(data_dir: Path, *extra: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["monitor", "--data-dir", str(data_dir), *extra])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads((data_dir / "monitoring_report.json").read_text())


def test_a_fresh_healthy_warehouse_exits_0_with_the_exact_report_keys(
    built: Path, tmp_path: Path
) -> None:
    with_quality(built, 99.5)
    code, report = invoke(built, "--prometheus", str(tmp_path / "cartwheel.prom"))
    assert code == 0, report["alerts"]
    assert list(report) == [
        "monitoring_timestamp",
        "pipeline_health",
        "checks",
        "alerts",
        "overall_health_score",
    ]
    assert list(report["checks"]) == CHECKS
    assert report["pipeline_health"] == "healthy"
    assert report["overall_health_score"] == 100
    assert report["alerts"] == []
    checks = report["checks"]
    assert checks["last_execution"]["hours_since_last_success"] < 1
    assert set(checks["data_freshness"]["layers"]) == {"staging", "production", "warehouse"}
    assert all(layer["lag_hours"] < 1 for layer in checks["data_freshness"]["layers"].values())
    assert checks["database_connectivity"]["response_time_ms"] > 0
    assert checks["data_quality"]["score"] == 99.5
    prom = (tmp_path / "cartwheel.prom").read_text()
    assert "cartwheel_health_score 100\n" in prom
    assert 'cartwheel_check_status{check="data_quality"} 0\n' in prom


def test_volume_statistics_match_numpy_on_the_daily_counts(built: Path) -> None:
    volume = monitor(Settings(data_dir=built))["checks"]["data_volume_anomalies"]
    con = duckdb.connect(str(built / "cartwheel.duckdb"), read_only=True)
    daily = dict(
        con.execute("select date_key, total_transactions from warehouse.agg_daily_sales").fetchall()
    )
    con.close()
    first = datetime.strptime(str(min(daily)), "%Y%m%d")
    last = datetime.strptime(str(max(daily)), "%Y%m%d")
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    counts = np.array([daily.get(int(d.strftime("%Y%m%d")), 0) for d in days], dtype=float)
    before = counts[-31:-1]  # the 30 days before the latest one
    latest = volume["latest_day"]
    assert latest["date"] == last.date().isoformat()
    assert latest["transactions"] == counts[-1]
    assert latest["expected_mean"] == pytest.approx(before.mean(), abs=0.01)
    assert latest["stddev"] == pytest.approx(before.std(ddof=1), abs=0.01)
    assert volume["days_checked"] == len(counts) - 30
    # Every reported anomaly really lies outside mean ± 3σ of its preceding 30 days.
    index = {d.date().isoformat(): i for i, d in enumerate(days)}
    for anomaly in volume["recent_anomalies"]:
        i = index[anomaly["date"]]
        window = counts[i - 30 : i]
        assert abs(counts[i] - window.mean()) > 3 * window.std(ddof=1)


def test_a_volume_spike_on_the_latest_day_degrades_health(tmp_path: Path, built: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "cartwheel.duckdb").write_bytes((built / "cartwheel.duckdb").read_bytes())
    with_quality(data_dir, 99.0)
    con = duckdb.connect(str(data_dir / "cartwheel.duckdb"))
    con.execute(
        "update warehouse.agg_daily_sales set total_transactions = total_transactions * 50 + 100 "
        "where date_key = (select max(date_key) from warehouse.agg_daily_sales)"
    )
    con.close()
    code, report = invoke(data_dir)
    assert code == 1
    assert report["pipeline_health"] == "degraded"
    assert [a["check"] for a in report["alerts"]] == ["data_volume_anomalies"]
    assert report["checks"]["data_volume_anomalies"]["latest_day"]["is_anomaly"] is True
    assert report["overall_health_score"] == 85


def test_a_low_quality_score_or_none_is_a_warning(built: Path) -> None:
    with_quality(built, 90.0)
    report = monitor(Settings(data_dir=built))
    assert report["checks"]["data_quality"]["status"] == "warning"
    assert "below 95" in report["checks"]["data_quality"]["message"]
    (built / "quality_report.json").unlink()
    report = monitor(Settings(data_dir=built))
    assert report["checks"]["data_quality"]["status"] == "warning"
    assert report["pipeline_health"] == "degraded"


def test_a_run_older_than_25_hours_is_critical_and_stale_layers_warn(built: Path) -> None:
    with_quality(built, 99.0)
    later = datetime.now(UTC) + timedelta(hours=30)
    report = monitor(Settings(data_dir=built), now=later)
    checks = report["checks"]
    assert checks["last_execution"]["status"] == "critical"
    assert checks["data_freshness"]["status"] == "warning"
    assert report["pipeline_health"] == "critical"
    assert report["overall_health_score"] == 100 - 40 - 15
    # Thresholds come from the configuration.
    relaxed = Settings(
        data_dir=built, monitor={"max_run_age_hours": 48, "max_freshness_lag_hours": 48}
    )
    assert monitor(relaxed, now=later)["pipeline_health"] == "healthy"


def test_no_warehouse_is_critical_with_exit_code_2(tmp_path: Path) -> None:
    code, report = invoke(tmp_path)
    assert code == 2
    assert report["pipeline_health"] == "critical"
    assert report["checks"]["database_connectivity"]["status"] == "critical"
    assert report["overall_health_score"] == 0
    assert "cartwheel_health_status 2" in prometheus_text(report)


def test_a_failed_last_run_is_a_warning(tmp_path: Path, built: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "cartwheel.duckdb").write_bytes((built / "cartwheel.duckdb").read_bytes())
    with_quality(data_dir, 99.0)
    con = duckdb.connect(str(data_dir / "cartwheel.duckdb"))
    con.execute(
        "insert into ops.pipeline_runs (run_id, started_at, status) "
        "values ('later', now()::timestamp + interval 1 minute, 'failed')"
    )
    con.close()
    report = monitor(Settings(data_dir=data_dir))
    assert report["checks"]["last_execution"]["status"] == "warning"
    assert report["checks"]["last_execution"]["last_run_status"] == "failed"


def test_freshness_is_right_in_any_time_zone(tmp_path: Path) -> None:
    """Load timestamps are stored in the session's wall clock; outside UTC a naive reading
    would be hours off."""
    generate(tmp_path / "shop", scale=0.05, seed=6)
    env = {**os.environ, "TZ": "America/New_York"}
    command = [sys.executable, "-m", "cartwheel.cli"]
    data = ["--data-dir", str(tmp_path / "data")]
    subprocess.run([*command, "run", "--input", str(tmp_path / "shop"), *data], env=env, check=True)
    subprocess.run([*command, "monitor", *data], env=env, capture_output=True)
    report = json.loads((tmp_path / "data" / "monitoring_report.json").read_text())
    layers = report["checks"]["data_freshness"]["layers"]
    assert all(0 <= layer["lag_hours"] < 0.5 for layer in layers.values()), layers
