"""What cartwheel writes for others to open: the dashboard page and the analytics CSVs
keep hostile values as data."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from cartwheel.analytics.runner import write_csv
from cartwheel.dashboard.page import _inline_script, _static, render_html

MARKERS = ["/*__CHARTJS__*/", "/*__JS__*/", "/*__CSS__*/", "/*__DATA__*/"]


@pytest.mark.parametrize("marker", MARKERS)
def test_placeholder_in_data_is_not_substituted(marker: str) -> None:
    html = render_html({"data": {"products": [{"product_name": f"Laptop {marker} Pro"}]}})
    assert f"Laptop {marker} Pro" in html  # the data kept as given
    for library in ("chart.umd.min.js", "dashboard.js"):
        assert html.count(_inline_script(_static(library))) == 1, library
    assert html.count(_static("dashboard.css")) == 1


def test_template_marker_missing_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import cartwheel.dashboard.page as builder

    monkeypatch.setattr(builder, "_static", lambda name: "" if name == "template.html" else "x")
    with pytest.raises(ValueError, match="exactly once"):
        render_html({})


def _written(tmp_path: Path, table: pa.Table) -> list[dict[str, str]]:
    path = tmp_path / "query.csv"
    write_csv(duckdb.connect(), table, path)
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            '=HYPERLINK("http://evil.example","click")',
            '\'=HYPERLINK("http://evil.example","click")',
        ),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("O'Donnell = best", "O'Donnell = best"),
        ("José María", "José María"),
        ("张伟", "张伟"),
    ],
)
def test_formula_cells_are_neutralised(tmp_path: Path, name: str, expected: str) -> None:
    rows = _written(tmp_path, pa.table({"product_name": [name], "profit": [-12.5]}))
    assert rows == [{"product_name": expected, "profit": "-12.5"}]


def test_negative_numbers_stay_numbers(tmp_path: Path) -> None:
    table = pa.table(
        {"total_profit": pa.array([-1.25, -0.5]), "units": pa.array([-3], pa.int64()).take([0, 0])}
    )
    assert _written(tmp_path, table) == [
        {"total_profit": "-1.25", "units": "-3"},
        {"total_profit": "-0.5", "units": "-3"},
    ]
