"""`cartwheel monitor`: five health checks on the published warehouse.

Each check returns a status (`ok`, `warning`, `critical`) and its measurements; every
non-ok check raises one alert. The health score is 100 minus 40 per critical alert and
15 per warning (not below 0); the pipeline is critical with any critical alert,
degraded with any warning, else healthy. Exit codes: 0 healthy, 1 degraded, 2 critical.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from cartwheel.config import MonitorSettings, Settings
from cartwheel.contract import ENTITIES
from cartwheel.engines import Engine, connect_reader
from cartwheel.files import write_atomically
from cartwheel.reports import now_iso
from cartwheel.sqlfiles import fill, sql_text
from cartwheel.terminal import plain

EXIT_CODES = {"healthy": 0, "degraded": 1, "critical": 2}
PENALTY = {"warning": 15, "critical": 40}
REPORT = "monitoring_report.json"

# Load timestamps per layer: the newest row each layer received.
LAYER_TIMESTAMPS = {
    "staging": [(f"staging.{entity}", "loaded_at") for entity in ENTITIES],
    "production": [(f"production.{entity}", "updated_at") for entity in ENTITIES],
    "warehouse": [("warehouse.fact_sales", "created_at")],
}


@dataclass
class HealthCheck:
    status: str = "ok"
    details: dict[str, Any] = field(default_factory=dict)
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "message": self.message, **self.details}


def _utc(moment: object) -> datetime | None:
    """A stored timestamp as an aware UTC datetime (naive ones are UTC by convention)."""
    if not isinstance(moment, datetime):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _hours_since(moment: datetime, now: datetime) -> float:
    return round((now - moment).total_seconds() / 3600, 3)


def check_last_execution(engine: Engine, now: datetime, limits: MonitorSettings) -> HealthCheck:
    if not engine.table_exists("ops.pipeline_runs"):
        return HealthCheck("critical", {}, "no run history: cartwheel has never run here")
    last_success = engine.scalar(
        "select max(ended_at) from ops.pipeline_runs where status = 'success'"
    )
    last_status = engine.scalar(
        "select status from ops.pipeline_runs order by started_at desc limit 1"
    )
    details: dict[str, Any] = {
        "last_success_at": None,
        "hours_since_last_success": None,
        "last_run_status": last_status,
        "threshold_hours": limits.max_run_age_hours,
    }
    success_at = _utc(last_success)
    if success_at is None:
        return HealthCheck("critical", details, "no successful run on record")
    age = _hours_since(success_at, now)
    details.update(last_success_at=success_at.isoformat(), hours_since_last_success=age)
    if age > limits.max_run_age_hours:
        return HealthCheck(
            "critical",
            details,
            f"last successful run {age:.1f} h ago (limit {limits.max_run_age_hours:g} h)",
        )
    if last_status != "success":
        return HealthCheck("warning", details, f"the latest run ended {last_status}")
    return HealthCheck("ok", details)


def check_freshness(engine: Engine, now: datetime, limits: MonitorSettings) -> HealthCheck:
    # Load timestamps are stored without a zone, in the writing session's wall clock; the
    # database's own clock, read the same way, gives the lag whatever the zone.
    skew = now - datetime.now(UTC)  # non-zero only when asked about another moment
    db_now = engine.scalar("select cast(current_timestamp as timestamp)")
    layers: dict[str, Any] = {}
    stale, missing = [], []
    for layer, sources in LAYER_TIMESTAMPS.items():
        present = [(t, c) for t, c in sources if engine.table_exists(t)]
        if not present:
            missing.append(layer)
            layers[layer] = {"last_loaded_at": None, "lag_hours": None}
            continue
        newest = engine.query(
            " union all ".join(f"select max({column}) from {table}" for table, column in present)
        )
        moments = [row[0] for row in newest if isinstance(row[0], datetime)]
        if not moments:
            missing.append(layer)
            layers[layer] = {"last_loaded_at": None, "lag_hours": None}
            continue
        latest = max(moments, key=lambda m: _utc(m) if m.tzinfo else m.replace(tzinfo=UTC))
        age = (now - latest) if latest.tzinfo else (db_now - latest + skew)
        lag = round(age.total_seconds() / 3600, 3)
        layers[layer] = {"last_loaded_at": latest.isoformat(), "lag_hours": lag}
        if lag > limits.max_freshness_lag_hours:
            stale.append(f"{layer} {lag:.1f} h")
    details = {"layers": layers, "threshold_hours": limits.max_freshness_lag_hours}
    if missing:
        return HealthCheck("critical", details, f"no data loaded in: {', '.join(missing)}")
    if stale:
        limit = limits.max_freshness_lag_hours
        return HealthCheck(
            "warning", details, f"stale layers (limit {limit:g} h): {', '.join(stale)}"
        )
    return HealthCheck("ok", details)


def volume_sql(window: int, sigmas: float) -> str:
    """Daily transactions (0 on days without sales) against the preceding `window` days."""
    sql = sql_text("orchestration/sql/volume.sql")
    return fill(sql, {"window": int(window), "sigmas": float(sigmas)})


def check_volume(engine: Engine, limits: MonitorSettings) -> HealthCheck:
    needed = ("warehouse.agg_daily_sales", "warehouse.dim_date")
    if not all(engine.table_exists(t) for t in needed):
        return HealthCheck("critical", {}, "no daily sales in the warehouse")
    rows = engine.query(volume_sql(limits.volume_window_days, limits.volume_sigmas))
    if not rows:
        return HealthCheck("critical", {}, "no daily sales in the warehouse")
    days_checked, total = int(rows[0][6]), int(rows[0][7])
    latest = next(row for row in rows if row[5])
    recent = [
        {"date": str(day), "transactions": int(n), "expected_mean": float(m), "stddev": float(sd)}
        for day, n, m, sd, anomaly, *_ in rows
        if anomaly
    ][:10]
    details = {
        "window_days": limits.volume_window_days,
        "sigmas": limits.volume_sigmas,
        "days_checked": days_checked,
        "anomalies_in_history": total,
        "latest_day": {
            "date": str(latest[0]),
            "transactions": int(latest[1]),
            "expected_mean": None if latest[2] is None else float(latest[2]),
            "stddev": None if latest[3] is None else float(latest[3]),
            "is_anomaly": bool(latest[4]),
        },
        "recent_anomalies": recent,
    }
    if latest[4]:
        return HealthCheck(
            "warning",
            details,
            f"{latest[1]} transactions on {latest[0]}, outside {latest[2]} ± "
            f"{limits.volume_sigmas:g}σ ({latest[3]}) of the preceding "
            f"{limits.volume_window_days} days",
        )
    return HealthCheck("ok", details)


def check_quality(data_dir: Path, limits: MonitorSettings) -> HealthCheck:
    path = data_dir / "quality_report.json"
    details: dict[str, Any] = {"threshold": limits.min_quality_score, "source": str(path)}
    try:
        report = json.loads(path.read_text())
        score = float(report["overall_quality_score"])
    except (OSError, ValueError, KeyError, TypeError):
        return HealthCheck("warning", details, "no quality score yet (quality_report.json missing)")
    details.update(
        score=score,
        grade=report.get("quality_grade"),
        checked_at=report.get("check_timestamp"),
    )
    if score < limits.min_quality_score:
        return HealthCheck(
            "warning", details, f"quality score {score:g} below {limits.min_quality_score:g}"
        )
    return HealthCheck("ok", details)


def check_connectivity(settings: Settings) -> tuple[HealthCheck, Engine | None]:
    """Open the published database and time a trivial query."""
    began = time.perf_counter()
    try:
        engine = connect_reader(settings)
        engine.query("select 1")
    except Exception as error:  # noqa: BLE001 - any failure to connect is the finding
        text = (str(error).splitlines() or [""])[0]
        return HealthCheck(
            "critical", {"engine": settings.engine}, f"database unreachable: {text}"
        ), None
    elapsed = round((time.perf_counter() - began) * 1000, 2)
    details = {
        "engine": settings.engine,
        "response_time_ms": elapsed,
        "threshold_ms": settings.monitor.max_response_ms,
    }
    if elapsed > settings.monitor.max_response_ms:
        return HealthCheck("warning", details, f"database answered in {elapsed:.0f} ms"), engine
    return HealthCheck("ok", details), engine


def monitor(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """Run the five checks and return the monitoring report (not yet written)."""
    now = now or datetime.now(UTC)
    limits = settings.monitor
    connectivity, engine = check_connectivity(settings)
    checks: dict[str, HealthCheck] = {}
    unreachable = HealthCheck("critical", {}, "database unreachable")
    try:
        checks["last_execution"] = (
            check_last_execution(engine, now, limits) if engine else unreachable
        )
        checks["data_freshness"] = check_freshness(engine, now, limits) if engine else unreachable
        checks["data_volume_anomalies"] = check_volume(engine, limits) if engine else unreachable
    finally:
        if engine is not None:
            engine.close()
    checks["data_quality"] = check_quality(settings.data_dir, limits)
    checks["database_connectivity"] = connectivity
    alerts = [
        {"check": name, "severity": check.status, "message": check.message}
        for name, check in checks.items()
        if check.status != "ok"
    ]
    score = max(0, 100 - sum(PENALTY[alert["severity"]] for alert in alerts))
    severities = {alert["severity"] for alert in alerts}
    health = "critical" if "critical" in severities else "degraded" if severities else "healthy"
    return {
        "monitoring_timestamp": now_iso(),
        "pipeline_health": health,
        "checks": {name: check.as_dict() for name, check in checks.items()},
        "alerts": alerts,
        "overall_health_score": score,
    }


def prometheus_text(report: dict[str, Any]) -> str:
    """The report as Prometheus text exposition (for node_exporter's textfile collector)."""
    levels = {"ok": 0, "warning": 1, "critical": 2}
    lines = [
        "# HELP cartwheel_health_score Overall health score 0-100 from cartwheel monitor.",
        "# TYPE cartwheel_health_score gauge",
        f"cartwheel_health_score {report['overall_health_score']}",
        "# HELP cartwheel_health_status 0 healthy, 1 degraded, 2 critical.",
        "# TYPE cartwheel_health_status gauge",
        f"cartwheel_health_status {EXIT_CODES[report['pipeline_health']]}",
        "# HELP cartwheel_check_status Per check: 0 ok, 1 warning, 2 critical.",
        "# TYPE cartwheel_check_status gauge",
    ]
    checks = report["checks"]
    lines += [
        f'cartwheel_check_status{{check="{name}"}} {levels[check["status"]]}'
        for name, check in checks.items()
    ]
    gauges = {
        "cartwheel_hours_since_last_success": checks["last_execution"].get(
            "hours_since_last_success"
        ),
        "cartwheel_quality_score": checks["data_quality"].get("score"),
        "cartwheel_database_response_ms": checks["database_connectivity"].get("response_time_ms"),
    }
    for name, value in gauges.items():
        if value is not None:
            lines += [f"# TYPE {name} gauge", f"{name} {value}"]
    layers = checks["data_freshness"].get("layers") or {}
    lag_lines = [
        f'cartwheel_freshness_lag_hours{{layer="{layer}"}} {entry["lag_hours"]}'
        for layer, entry in layers.items()
        if entry.get("lag_hours") is not None
    ]
    if lag_lines:
        lines += ["# TYPE cartwheel_freshness_lag_hours gauge", *lag_lines]
    lines.append(f"cartwheel_monitor_timestamp_seconds {time.time():.0f}")
    return "\n".join(lines) + "\n"


def write_reports(
    settings: Settings, report: dict[str, Any], prometheus: Path | None = None
) -> Path:
    """Write `monitoring_report.json` (and the Prometheus file if asked); return the JSON path."""
    path = settings.data_dir / REPORT
    write_atomically(path, json.dumps(report, indent=2, default=str) + "\n")
    if prometheus is not None:
        write_atomically(prometheus, prometheus_text(report))
    return path


def render_report(report: dict[str, Any]) -> Table:
    """The checks as a console table."""
    colours = {"ok": "green", "warning": "yellow", "critical": "red"}
    health = report["pipeline_health"]
    table = Table(title=f"cartwheel monitor: {health} (score {report['overall_health_score']})")
    table.add_column("check")
    table.add_column("status")
    table.add_column("finding")
    for name, check in report["checks"].items():
        colour = colours[check["status"]]
        table.add_row(name, plain(check["status"], colour), plain(check.get("message") or ""))
    return table
