"""Run the ten analytics queries against the warehouse and write one CSV each."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cartwheel.analytics.forecast import FORECAST_FILE, revenue_forecast
from cartwheel.engines import Engine
from cartwheel.local_duckdb import local_connection
from cartwheel.models import load_models, render
from cartwheel.sqltext import string_literal

QUERIES = tuple(
    sorted(
        (model.name for model in load_models("analytics")),
        key=lambda name: int(name.split("_")[0].removeprefix("query")),
    )
)


# A text cell a spreadsheet would run as a formula (OWASP, "CSV Injection"): it starts
# with one of = + - @ tab or carriage return. It is written with a leading apostrophe,
# which spreadsheets show as text; numbers are never text columns, so -12.5 stays a number.
FORMULA_START = r"^([=+\-@\t\r])"


def _portable(table: pa.Table) -> pa.Table:
    """Same text from every engine: decimals at their scale, integers as integers; text
    that a spreadsheet would run as a formula neutralised."""
    columns = []
    for column in table.columns:
        if pa.types.is_floating(column.type):
            column = pc.round(column, 2)
        elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = pc.replace_substring_regex(column, FORMULA_START, "'\\1")
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def write_csv(writer: duckdb.DuckDBPyConnection, table: pa.Table, path: Path) -> None:
    """Plain CSV (quotes only where a value needs them), whichever engine ran the query."""
    writer.register("result", _portable(table))
    writer.execute(f"copy result to {string_literal(path)} (format csv, header true)").fetchall()
    writer.unregister("result")


def run_analytics(engine: Engine, out_dir: Path, forecast_days: int = 90) -> dict:
    """Write `queryN_*.csv`, `forecast_revenue.csv` and `analytics_summary.json`; returns
    the summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    models = {model.name: model for model in load_models("analytics")}
    results = {}
    writer = local_connection()
    for name in QUERIES:
        started = time.perf_counter()
        table = engine.query_arrow(render(models[name], engine))
        write_csv(writer, table, out_dir / f"{name}.csv")
        results[name] = {
            "rows": table.num_rows,
            "columns": table.column_names,
            "execution_time_ms": round((time.perf_counter() - started) * 1000, 2),
        }
    forecast, backtest = revenue_forecast(engine, forecast_days)
    if forecast is not None:
        write_csv(writer, forecast, out_dir / FORECAST_FILE)
    writer.close()
    summary = {
        "generation_timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "queries_executed": len(results),
        "query_results": results,
        "total_execution_time_seconds": round(time.perf_counter() - began, 3),
        "forecast_backtest": backtest,
    }
    (out_dir / "analytics_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
