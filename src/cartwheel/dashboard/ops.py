"""Quality and pipeline-health data for the dashboard: from the ops tables when they exist,
else from the JSON reports in the data folder; absent sources give empty lists, which the
page shows as "no data yet"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cartwheel.engines import Engine

# The quality report's check groups, named by the six quality dimensions.
CHECK_GROUPS = {
    "null_checks": "completeness",
    "duplicate_checks": "uniqueness",
    "range_checks": "validity",
    "data_consistency": "consistency",
    "referential_integrity": "referential integrity",
    "accuracy_business_rules": "accuracy",
}
HISTORY_RUNS = 20


def _read_json(folders: tuple[Path, ...], name: str) -> dict[str, Any] | None:
    """The first readable JSON object named `name` in `folders`."""
    for folder in folders:
        try:
            content = json.loads((folder / name).read_text())
        except (OSError, ValueError):
            continue
        if isinstance(content, dict):
            return content
    return None


def _pick(columns: list[str], *candidates: str) -> str | None:
    """The first candidate column the table has (other helpers own these tables)."""
    return next((c for c in candidates if c in columns), None)


def _columns(engine: Engine, table: str) -> list[str]:
    return engine.columns(table) if engine.table_exists(table) else []


def _number(value: Any) -> float | None:
    try:
        return round(float(value), 3)
    except (TypeError, ValueError):
        return None


def quality_data(engine: Engine, folders: tuple[Path, ...]) -> dict[str, Any]:
    """Score, grade, checks per dimension, score history and quarantine per reason."""
    report = _read_json(folders, "quality_report.json") or {}
    result: dict[str, Any] = {
        "score": _number(report.get("overall_quality_score")),
        "grade": report.get("quality_grade"),
        "checked_at": report.get("check_timestamp"),
        "dimensions": [],
        "history": [],
        "quarantine": [],
    }
    result["dimensions"] = _dimensions_from_table(engine) or _dimensions_from_report(report)
    result["history"] = _score_history(engine)
    result["quarantine"] = _quarantine(engine)
    result["quarantine_known"] = engine.table_exists("ops.quarantine")
    return result


def _dimensions_from_report(report: dict[str, Any]) -> list[dict[str, Any]]:
    dimensions = []
    for group, dimension in CHECK_GROUPS.items():
        entry = (report.get("checks_performed") or {}).get(group)
        if not isinstance(entry, dict):
            continue
        failed = entry.get("failed", entry.get("checks_failed", entry.get("failed_checks")))
        warning = entry.get("warnings", entry.get("warning", 0))
        passed = entry.get("passed", entry.get("checks_passed", entry.get("passed_checks")))
        total = entry.get("total", entry.get("checks", entry.get("total_checks")))
        if passed is None and total is not None and failed is not None:
            passed = total - failed
        if passed is None and failed is None:
            passed, failed = (1, 0) if entry.get("status") in ("passed", "pass") else (0, 1)
        dimensions.append(
            {
                "dimension": dimension,
                "passed": int(passed or 0),
                "warning": int(warning or 0),
                "failed": int(failed or 0),
            }
        )
    return dimensions


def _dimensions_from_table(engine: Engine) -> list[dict[str, Any]]:
    """Checks of the latest quality run (ops.quality_results) per dimension, with the
    dimension's score (share of its weighted points kept)."""
    table = "ops.quality_results"
    columns = set(_columns(engine, table))
    if not {"checked_at", "dimension", "status"} <= columns:
        return []
    score = (
        "round(100.0 * sum(score_points) / sum(weight), 1)"
        if {"score_points", "weight"} <= columns
        else "null"
    )
    rows = engine.query(
        f"""
        select
            dimension,
            sum(case when status = 'passed' then 1 else 0 end),
            sum(case when status = 'warning' then 1 else 0 end),
            sum(case when status not in ('passed', 'warning') then 1 else 0 end),
            {score}
        from {table}
        where checked_at = (select max(checked_at) from {table})
        group by dimension
        order by dimension
        """
    )
    return [
        {
            "dimension": str(d).replace("_", " "),
            "passed": int(p),
            "warning": int(w),
            "failed": int(f),
            "score": _number(points),
        }
        for d, p, w, f, points in rows
    ]


def _score_history(engine: Engine) -> list[dict[str, Any]]:
    """Score per quality run: the weighted share of points kept, as the quality step
    computes it (100 x sum of score_points / sum of weight)."""
    table = "ops.quality_results"
    if not {"checked_at", "score_points", "weight"} <= set(_columns(engine, table)):
        return []
    rows = engine.query(
        f"""
        select checked_at, round(100.0 * sum(score_points) / sum(weight), 2)
        from {table}
        group by checked_at
        having sum(weight) > 0
        order by checked_at desc
        limit {HISTORY_RUNS}
        """
    )
    return [{"at": str(a), "score": _number(s)} for a, s in reversed(rows)]


def _quarantine(engine: Engine) -> list[dict[str, Any]]:
    table = "ops.quarantine"
    columns = _columns(engine, table)
    reason = _pick(columns, "reason_code", "reason", "reject_reason")
    entity = _pick(columns, "entity", "table_name", "source_table")
    if not reason:
        return []
    entity_sql = entity or "'rows'"
    # Rows a later run released (promoted after all) are history, not held back now.
    held = "where released_at is null" if "released_at" in columns else ""
    rows = engine.query(
        f"select {entity_sql}, {reason}, count(*) from {table} {held} "
        f"group by {entity_sql}, {reason} order by 3 desc, 1, 2"
    )
    return [{"entity": str(e), "reason": str(r), "rows": int(n)} for e, r, n in rows]


def pipeline_data(
    engine: Engine, folders: tuple[Path, ...], this_run: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Last runs, the last run's step durations and the monitor's verdict.

    `this_run` is the run building the dashboard (not in the history tables yet): its
    steps so far are the step durations shown, and it ends the list of runs as running.
    A dashboard rebuilt on its own (no steps before it) shows the last recorded run.
    """
    runs = _runs_from_table(engine)
    if this_run is not None and this_run.get("steps"):
        runs = [r for r in runs if r["run_id"] != this_run["run_id"]][-(HISTORY_RUNS - 1) :]
        runs.append(
            {
                "run_id": this_run["run_id"],
                "started_at": this_run.get("started_at"),
                "status": "running",
                "seconds": round(sum(s.get("seconds") or 0 for s in this_run["steps"]), 3),
            }
        )
        return {"runs": runs, "steps": _merged(this_run["steps"]), "monitor": _monitor(folders)}
    steps = _steps_from_table(
        engine, _last_full_run(engine) or (runs[-1]["run_id"] if runs else None)
    )
    report = _read_json(folders, "pipeline_execution_report.json")
    if not runs and report:
        runs = [
            {
                "run_id": report.get("pipeline_execution_id"),
                "started_at": report.get("start_time"),
                "status": report.get("status"),
                "seconds": _number(report.get("total_duration_seconds")),
            }
        ]
    if not steps and report:
        steps = [
            {
                "step": name,
                "status": step.get("status"),
                "seconds": _number(step.get("duration_seconds")),
                "rows": step.get("records_processed"),
            }
            for name, step in (report.get("steps_executed") or {}).items()
        ]
    return {"runs": runs, "steps": _merged(steps), "monitor": _monitor(folders)}


def _merged(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per step name: daily batches run the batch steps once per batch, and
    retries add attempts. Seconds and rows add up; the status is the last one's."""
    merged: dict[str, dict[str, Any]] = {}
    for step in steps:
        entry = merged.setdefault(
            step["step"], {"step": step["step"], "status": "success", "seconds": 0.0, "rows": 0}
        )
        entry["seconds"] = round(entry["seconds"] + (step.get("seconds") or 0), 3)
        entry["rows"] = (entry["rows"] or 0) + (step.get("rows") or 0)
        # The last attempt decides (a failed batch ends the run, a retry that worked wins).
        entry["status"] = step.get("status")
    return list(merged.values())


def _runs_from_table(engine: Engine) -> list[dict[str, Any]]:
    table = "ops.pipeline_runs"
    columns = _columns(engine, table)
    run_id = _pick(columns, "run_id", "pipeline_execution_id", "id")
    started = _pick(columns, "started_at", "start_time")
    ended = _pick(columns, "finished_at", "ended_at", "end_time")
    status = _pick(columns, "status")
    seconds = _pick(columns, "duration_seconds", "total_duration_seconds", "seconds")
    if not (run_id and started and status):
        return []
    duration = seconds or (
        f"extract(epoch from ({ended} - {started}))" if ended else "cast(null as double)"
    )
    rows = engine.query(
        f"select {run_id}, {started}, {status}, {duration} from {table} "
        f"order by {started} desc limit {HISTORY_RUNS}"
    )
    return [
        {"run_id": str(r), "started_at": str(s), "status": str(st), "seconds": _number(d)}
        for r, s, st, d in reversed(rows)
    ]


def _last_full_run(engine: Engine) -> str | None:
    """The latest run that did more than one step (not a lone dashboard rebuild)."""
    if "steps" not in _columns(engine, "ops.pipeline_runs"):
        return None
    rows = engine.query(
        "select run_id from ops.pipeline_runs where steps like '%,%' "
        "order by started_at desc limit 1"
    )
    return str(rows[0][0]) if rows else None


def _steps_from_table(engine: Engine, run: str | None) -> list[dict[str, Any]]:
    table = "ops.step_runs"
    columns = _columns(engine, table)
    run_id = _pick(columns, "run_id", "pipeline_execution_id")
    step = _pick(columns, "step", "step_name", "name")
    status = _pick(columns, "status")
    seconds = _pick(columns, "duration_seconds", "seconds")
    rows_col = _pick(columns, "rows_out", "records_processed", "rows", "row_count")
    order = _pick(columns, "started_at", "start_time", "attempt")
    if not (run and run_id and step and status and seconds):
        return []
    rows = engine.query(
        f"select {step}, {status}, {seconds}, {rows_col or 'null'} from {table} "
        f"where cast({run_id} as varchar) = ? order by {order or step}",
        [run],
    )
    return [
        {"step": str(s), "status": str(st), "seconds": _number(d), "rows": n}
        for s, st, d, n in rows
    ]


def _check_summary(name: str, check: dict[str, Any]) -> str:
    """One line per monitor check: its message, else its main measurement."""
    if check.get("message"):
        return str(check["message"])
    if name == "last_execution" and check.get("hours_since_last_success") is not None:
        return f"last success {check['hours_since_last_success']} h ago"
    if name == "data_freshness" and isinstance(check.get("layers"), dict):
        lags = [
            layer.get("lag_hours")
            for layer in check["layers"].values()
            if isinstance(layer, dict) and layer.get("lag_hours") is not None
        ]
        return f"oldest layer loaded {max(lags)} h ago" if lags else ""
    if name == "data_volume_anomalies" and isinstance(check.get("latest_day"), dict):
        day = check["latest_day"]
        return (
            f"{day.get('date')}: {day.get('transactions')} transactions "
            f"(expected {day.get('expected_mean')})"
        )
    if name == "data_quality" and check.get("score") is not None:
        return f"score {check['score']} (grade {check.get('grade')})"
    if name == "database_connectivity" and check.get("response_time_ms") is not None:
        return f"{check.get('engine', '')} answered in {check['response_time_ms']} ms"
    return ""


def _monitor(folders: tuple[Path, ...]) -> dict[str, Any] | None:
    report = _read_json(folders, "monitoring_report.json")
    if report is None:
        return None
    checks = []
    for name, check in (report.get("checks") or {}).items():
        check = check if isinstance(check, dict) else {"status": check}
        checks.append(
            {
                "check": str(name),
                "status": str(check.get("status", "")),
                "message": _check_summary(str(name), check),
            }
        )
    named = {c["check"] for c in checks}
    # Alerts repeat their check's message; list only those about something else.
    alerts = [
        str(a.get("message") or a) if isinstance(a, dict) else str(a)
        for a in report.get("alerts") or []
        if not (isinstance(a, dict) and a.get("check") in named)
    ]
    return {
        "health": report.get("pipeline_health"),
        "score": _number(report.get("overall_health_score")),
        "checked_at": report.get("monitoring_timestamp"),
        "checks": checks,
        "alerts": alerts,
    }
