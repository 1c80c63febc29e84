"""Write `dashboard.html` (one self-contained file, Chart.js inlined, works offline) and
`dashboard_metadata.json` into the data folder."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from cartwheel.analytics.forecast import dashboard_view
from cartwheel.dashboard.data import LIMITS, warehouse_data
from cartwheel.dashboard.layout import FILTERS, layout
from cartwheel.dashboard.ops import pipeline_data, quality_data
from cartwheel.engines import Engine
from cartwheel.reports import now_iso, write_report

HTML_NAME = "dashboard.html"
METADATA_NAME = "dashboard_metadata.json"
CHARTING = {"library": "Chart.js", "version": "4.6.1", "license": "MIT"}


@dataclass
class DashboardResult:
    path: Path
    metadata_path: Path
    bytes: int
    data_bytes: int
    visuals: int
    seconds: float
    query_ms: dict[str, float]


def _static(name: str) -> str:
    return (resources.files("cartwheel.dashboard") / "static" / name).read_text()


def script_json(value: Any) -> str:
    """JSON that is safe inside a <script> element: no `<`, `>` or `&` survives literally, so
    no value (a product named `</script><script>…`) can end the element or open a tag."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _inline_script(code: str) -> str:
    """A library's code as the body of a <script> element (drops its source-map pointer)."""
    lines = [line for line in code.splitlines() if not line.startswith("//# sourceMappingURL")]
    code = "\n".join(lines)
    if "</script" in code.lower():  # cannot happen with the vendored files; guard anyway
        raise ValueError("script contains a closing tag")
    return code


def render_html(payload: dict[str, Any]) -> str:
    """The page: template + CSS + Chart.js + dashboard JS + the data."""
    html = _static("template.html")
    parts = {
        "/*__CSS__*/": _static("dashboard.css"),
        "/*__DATA__*/": script_json(payload),
        "/*__CHARTJS__*/": _inline_script(_static("chart.umd.min.js")),
        "/*__JS__*/": _inline_script(_static("dashboard.js")),
    }
    for marker in parts:
        if html.count(marker) != 1:
            raise ValueError(f"template must hold {marker} exactly once")
    # One pass over the template: a marker inside the data (a product named
    # `/*__JS__*/`) is content, never a place to substitute.
    markers = re.compile("|".join(re.escape(marker) for marker in parts))
    return markers.sub(lambda found: parts[found.group()], html)


def build_dashboard(
    engine: Engine,
    out_dir: Path,
    report_dirs: tuple[Path, ...] | None = None,
    source: dict[str, Any] | None = None,
    this_run: dict[str, Any] | None = None,
) -> DashboardResult:
    """Aggregate the warehouse, then write the page and its metadata into `out_dir`.

    Quality and monitoring reports are read from the first of `report_dirs` (default:
    `out_dir`) that has them; `this_run` is the run building the dashboard, if any.
    """
    began = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    folders = tuple(report_dirs or (out_dir,))
    sales = warehouse_data(engine)
    quality = quality_data(engine, folders)
    generated_at = now_iso()
    source = {"engine": engine.name, **(source or {})}
    pages = layout()
    payload = {
        "generated_at": generated_at,
        "source": source,
        "layout": pages,
        "data": sales.data,
        "quality": quality,
        "pipeline": pipeline_data(engine, folders, this_run),
        "forecast": dashboard_view(engine, folders),
    }
    html = render_html(payload)
    path = out_dir / HTML_NAME
    temporary = path.with_suffix(".html.tmp")
    temporary.write_text(html, encoding="utf-8")
    temporary.replace(path)  # readers never see half a file
    visuals = sum(len(page["visuals"]) for page in pages)
    kpi_cards = 4
    metadata_path = write_report(
        out_dir,
        METADATA_NAME,
        {
            "generated_at": generated_at,
            "file": HTML_NAME,
            "file_bytes": len(html.encode()),
            "pages": [
                {
                    "id": page["id"],
                    "title": page["title"],
                    "visuals": [
                        {k: v for k, v in visual.items() if k != "source"}
                        | {"data": visual["source"]}
                        for visual in page["visuals"]
                    ],
                }
                for page in pages
            ],
            "visual_count": visuals,
            "kpi_cards": [
                "total_revenue",
                "transactions",
                "average_order_value",
                "profit_margin_pct",
            ],
            "chart_count": visuals - 1 + kpi_cards,
            "filters": list(FILTERS),
            "data_source": {
                **source,
                "schemas": ["warehouse", "ops"],
                "tables": [
                    "warehouse.fact_sales",
                    "warehouse.dim_date",
                    "warehouse.dim_products",
                    "warehouse.dim_customers",
                    "warehouse.dim_payment_method",
                    "ops.quality_results",
                    "ops.quarantine",
                    "ops.pipeline_runs",
                    "ops.step_runs",
                ],
                "reports": [
                    "quality_report.json",
                    "monitoring_report.json",
                    "analytics/forecast_revenue.csv",
                ],
                "aggregation": "month x category x state x payment method cube plus bounded "
                "tables (top products per category, sub-categories, weekdays, customers)",
                "cube_cells": len(sales.data["sales"]["revenue"]),
                "limits": LIMITS,
                "query_ms": sales.query_ms,
            },
            "charting": CHARTING,
            "offline": True,
        },
    )
    return DashboardResult(
        path=path,
        metadata_path=metadata_path,
        bytes=len(html.encode()),
        data_bytes=len(script_json(payload).encode()),
        visuals=visuals,
        seconds=time.perf_counter() - began,
        query_ms=sales.query_ms,
    )
