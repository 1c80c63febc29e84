"""The dashboard from PostgreSQL carries the same data as the one from DuckDB."""

from __future__ import annotations

from pathlib import Path

import pytest

from cartwheel.generate import generate
from tests.conftest import run_cli
from tests.pg_server import binaries_available, new_database, shared_server
from tests.test_dashboard import embedded

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not binaries_available(), reason="initdb/pg_ctl not on PATH"),
]


def rounded(value: object) -> object:
    """Floats to cents, recursively (sums may differ in the last binary digit)."""
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, list):
        return [rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return value


def test_same_dashboard_data_on_both_engines(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    generate(raw, scale=0.3, seed=3)
    url = new_database(shared_server())
    duck_dir, pg_dir = tmp_path / "duckdb", tmp_path / "postgres"
    run_cli("run", "--input", str(raw), "--data-dir", str(duck_dir))
    run_cli(
        "run", "--input", str(raw), "--data-dir", str(pg_dir),
        "--engine", "postgres", "--database-url", url,
    )  # fmt: skip
    duck, pg = embedded(duck_dir / "dashboard.html"), embedded(pg_dir / "dashboard.html")
    assert duck["source"]["engine"] == "duckdb" and pg["source"]["engine"] == "postgres"
    assert len(duck["data"]["sales"]["revenue"]) > 500
    for table in duck["data"]:
        assert rounded(duck["data"][table]) == rounded(pg["data"][table]), table
    assert duck["quality"]["dimensions"] == pg["quality"]["dimensions"]
