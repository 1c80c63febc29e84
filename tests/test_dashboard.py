"""The dashboard file: self-contained, complete, numbers that reconcile with the warehouse,
escaped data, bounded size. (The browser test is tests/test_dashboard_browser.py.)"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cartwheel.cli import app
from cartwheel.dashboard import build_dashboard
from cartwheel.dashboard.page import script_json
from cartwheel.engines.duckdb import DuckDBEngine

PAGES = (
    "Executive Summary",
    "Product Analysis",
    "Customer Insights",
    "Geographic & Trends",
    "Data Quality",
    "Pipeline Health",
)
XSS_PRODUCT = "<img src=x onerror=alert(1)>"
XSS_CUSTOMER = "</script><script>alert(2)</script>"


def embedded(html_path: Path) -> dict:
    """The JSON payload inside the page's data <script> element."""
    html = html_path.read_text()
    match = re.search(r'<script type="application/json" id="cw-data">(.*?)</script>', html, re.S)
    assert match, "data element missing"
    return json.loads(match.group(1))


def rebuild(data_dir: Path, out: Path) -> Path:
    """Build the dashboard from `data_dir`'s warehouse into `out` (the library call)."""
    engine = DuckDBEngine(str(data_dir / "cartwheel.duckdb"))
    try:
        build_dashboard(engine, out)
    finally:
        engine.close()
    return out / "dashboard.html"


@pytest.fixture()
def db_copy(sf1_run: Path, tmp_path: Path) -> Path:
    """A private copy of the SF1 data folder's database, free to be changed."""
    target = tmp_path / "copy"
    target.mkdir()
    shutil.copyfile(sf1_run / "cartwheel.duckdb", target / "cartwheel.duckdb")
    return target


def test_run_writes_dashboard_and_metadata(sf1_run: Path) -> None:
    html = (sf1_run / "dashboard.html").read_text()
    meta = json.loads((sf1_run / "dashboard_metadata.json").read_text())
    assert [p["title"] for p in meta["pages"]] == list(PAGES)
    assert meta["visual_count"] == sum(len(p["visuals"]) for p in meta["pages"]) >= 16
    assert {f["id"] for f in meta["filters"]} == {
        "date_range",
        "category",
        "state",
        "payment_method",
    }
    assert meta["data_source"]["engine"] == "duckdb"
    assert meta["generated_at"] and meta["file_bytes"] == len(html.encode())
    executive = meta["pages"][0]["visuals"]
    assert [v["id"] for v in executive] == [
        "kpis",
        "monthly_trend",
        "revenue_by_category",
        "payment_mix",
        "revenue_by_state",
    ]


def test_file_is_self_contained(sf1_run: Path) -> None:
    html = (sf1_run / "dashboard.html").read_text()
    assert "Chart.js v4.6.1" in html  # the library is inlined
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=", html)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "sourceMappingURL" not in html
    # The page forbids every network request, so a hidden CDN use would fail visibly.
    assert "default-src 'none'" in html


def test_embedded_cube_reconciles_with_warehouse(sf1_run: Path, sf1_db) -> None:
    data = embedded(sf1_run / "dashboard.html")["data"]
    revenue, profit, units, lines, orders = sf1_db.execute(
        "select sum(line_total), sum(profit), sum(quantity), count(*), "
        "count(distinct transaction_id) from warehouse.fact_sales"
    ).fetchall()[0]
    sales = data["sales"]
    assert round(sum(sales["revenue"]), 2) == float(revenue)
    assert round(sum(sales["profit"]), 2) == float(profit)
    assert sum(sales["units"]) == units
    assert sum(sales["order_lines"]) == lines
    # Transactions add up in the transaction-level cube, not across categories.
    assert sum(data["orders"]["orders"]) == orders
    assert sum(sales["orders"]) > orders
    assert round(sum(data["orders"]["revenue"]), 2) == float(revenue)
    # One category's orders from the sales cube equal the warehouse's distinct count.
    electronics = data["dims"]["categories"].index("Electronics")
    in_cube = sum(
        n for c, n in zip(sales["category"], sales["orders"], strict=True) if c == electronics
    )
    expected = sf1_db.execute(
        "select count(distinct f.transaction_id) from warehouse.fact_sales f "
        "join warehouse.dim_products p using (product_key) where p.category = 'Electronics'"
    ).fetchall()[0][0]
    assert in_cube == expected
    assert len(data["dims"]["months"]) == 24
    assert sorted(data["dims"]["categories"]) == sorted(
        r[0]
        for r in sf1_db.execute("select distinct category from warehouse.dim_products").fetchall()
    )


def test_size_does_not_grow_with_order_lines(db_copy: Path, tmp_path: Path) -> None:
    """Three times the order lines: the same cells, the same file size give or take digits."""
    before = rebuild(db_copy, tmp_path / "before")
    con = duckdb.connect(str(db_copy / "cartwheel.duckdb"))
    # The lines and the monthly sums the warehouse step keeps of them, each three times.
    for table in (
        "warehouse.fact_sales",
        "ops.dashboard_sales_cells",
        "ops.dashboard_order_cells",
        "ops.dashboard_category_days",
        "ops.dashboard_sub_category_months",
        "ops.dashboard_product_months",
    ):
        con.execute(f"insert into {table} select * from {table} union all select * from {table}")
    con.close()
    after = rebuild(db_copy, tmp_path / "after")
    a, b = embedded(before)["data"], embedded(after)["data"]
    for table in ("sales", "orders", "product_sales", "sub_categories", "weekdays"):
        assert len(a[table]["month"]) == len(b[table]["month"]), table
    assert round(sum(b["sales"]["revenue"]), 2) == round(3 * sum(a["sales"]["revenue"]), 2)
    assert after.stat().st_size < before.stat().st_size * 1.1


def test_script_json_cannot_close_the_element() -> None:
    text = script_json({"name": XSS_CUSTOMER, "other": XSS_PRODUCT + " & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"name": XSS_CUSTOMER, "other": XSS_PRODUCT + " & \u2028"}


def test_hostile_names_are_data_not_markup(db_copy: Path, tmp_path: Path) -> None:
    con = duckdb.connect(str(db_copy / "cartwheel.duckdb"))
    con.execute(
        "update warehouse.dim_products set product_name = ? where product_id = 'PROD0001'",
        [XSS_PRODUCT],
    )
    con.execute("update warehouse.dim_customers set full_name = ?", [XSS_CUSTOMER])
    con.close()
    html = rebuild(db_copy, tmp_path).read_text()
    assert XSS_PRODUCT not in html and "<img" not in html
    assert html.count("</script>") == 3  # data, Chart.js, dashboard code: nothing injected
    data = embedded(tmp_path / "dashboard.html")["data"]
    assert XSS_PRODUCT in data["products"]["product_name"]
    assert set(data["top_customers"]["full_name"]) == {XSS_CUSTOMER}


def test_missing_ops_sources_mean_no_data_yet(db_copy: Path, tmp_path: Path) -> None:
    con = duckdb.connect(str(db_copy / "cartwheel.duckdb"))
    # The history the Data Quality and Pipeline Health pages read (the configured
    # vocabulary stays: the warehouse pages band customers with it).
    for table in ("quarantine", "quality_results", "pipeline_runs", "step_runs"):
        con.execute(f"drop table if exists ops.{table} cascade")
    con.close()
    payload = embedded(rebuild(db_copy, tmp_path))
    assert payload["quality"]["score"] is None
    assert payload["quality"]["quarantine"] == [] and not payload["quality"]["quarantine_known"]
    assert payload["pipeline"] == {"runs": [], "steps": [], "monitor": None}


def test_quality_and_health_pages_read_reports_and_history(sf1_run: Path) -> None:
    payload = embedded(sf1_run / "dashboard.html")
    runs = payload["pipeline"]["runs"]
    # The run building the dashboard is the last one, its earlier steps timed.
    assert runs[-1]["status"] == "running"
    assert [s["step"] for s in payload["pipeline"]["steps"]] == [
        "generate",
        "ingest",
        "quality",
        "production",
        "warehouse",
        "analytics",
    ]
    report = json.loads((sf1_run / "quality_report.json").read_text())
    quality = payload["quality"]
    assert quality["score"] == pytest.approx(report["overall_quality_score"])
    assert quality["grade"] == report["quality_grade"]
    # Checks per dimension come from ops.quality_results: as many as the report counts.
    checks = sum(group["checks"] for group in report["checks_performed"].values())
    assert sum(d["passed"] + d["warning"] + d["failed"] for d in quality["dimensions"]) == checks
    assert len(quality["dimensions"]) == 6
    assert quality["history"][-1]["score"] == pytest.approx(report["overall_quality_score"])
    assert quality["quarantine_known"]


def test_quarantine_and_failed_checks_show_up(db_copy: Path, tmp_path: Path) -> None:
    """Inject held-back rows and a failed check: the Data Quality page counts them."""
    con = duckdb.connect(str(db_copy / "cartwheel.duckdb"))
    con.execute(
        "insert into ops.quarantine (entity, batch_id, reason, stage, quarantined_at) "
        "select 'transaction_items', 'b1', 'negative_quantity', 'quality', now() "
        "from range(3)"
    )
    con.execute(
        "insert into ops.quarantine (entity, batch_id, reason, stage, quarantined_at, "
        "released_at) values ('customers', 'b1', 'bad_email', 'quality', now(), now())"
    )
    con.execute(
        "update ops.quality_results set status = 'failed', score_points = 0 "
        "where check_id = (select min(check_id) from ops.quality_results)"
    )
    con.close()
    quality = embedded(rebuild(db_copy, tmp_path))["quality"]
    held = {(q["entity"], q["reason"]): q["rows"] for q in quality["quarantine"]}
    assert held[("transaction_items", "negative_quantity")] == 3
    assert ("customers", "bad_email") not in held  # released rows are history
    assert sum(d["failed"] for d in quality["dimensions"]) == 1
    assert quality["history"][-1]["score"] < 100


def test_cli_rebuilds_and_refuses_an_empty_folder(db_copy: Path, tmp_path: Path) -> None:
    """`cartwheel dashboard` on a copy (the shared SF1 folder stays as its run left it)."""
    result = CliRunner().invoke(app, ["dashboard", "--data-dir", str(db_copy)])
    assert result.exit_code == 0, result.output
    meta = json.loads((db_copy / "dashboard_metadata.json").read_text())
    assert meta["file_bytes"] == (db_copy / "dashboard.html").stat().st_size
    again = CliRunner().invoke(app, ["dashboard", "--data-dir", str(db_copy)])
    assert again.exit_code == 0, again.output
    later = json.loads((db_copy / "dashboard_metadata.json").read_text())
    assert later["generated_at"] > meta["generated_at"]
    empty = CliRunner().invoke(app, ["dashboard", "--data-dir", str(tmp_path / "none")])
    assert empty.exit_code == 1
    assert "run `cartwheel warehouse` first, or `cartwheel run`" in empty.output
    assert "Traceback" not in empty.output


def test_open_flag_opens_the_file_in_a_browser(db_copy: Path, monkeypatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    result = CliRunner().invoke(app, ["dashboard", "--data-dir", str(db_copy), "--open"])
    assert result.exit_code == 0, result.output
    assert opened == [(db_copy / "dashboard.html").resolve().as_uri()]


def test_steps_of_batches_and_retries_are_merged_per_step() -> None:
    from cartwheel.dashboard.ops import _merged

    steps = [
        {"step": "ingest", "status": "success", "seconds": 0.5, "rows": 10},
        {"step": "ingest", "status": "success", "seconds": 0.25, "rows": 5},
        {"step": "warehouse", "status": "failed", "seconds": 1.0, "rows": None},
        {"step": "warehouse", "status": "success", "seconds": 2.0, "rows": 7},
    ]
    assert _merged(steps) == [
        {"step": "ingest", "status": "success", "seconds": 0.75, "rows": 15},
        {"step": "warehouse", "status": "success", "seconds": 3.0, "rows": 7},
    ]
