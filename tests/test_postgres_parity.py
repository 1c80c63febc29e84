"""Parity: the same input through DuckDB and through PostgreSQL gives the same
analytics files byte for byte, and the same warehouse and production tables (row counts,
sums, distinct values) and the same quarantine — for a one-shot load with defects and for
a sequence of daily batches (SCD2 changes, incremental facts)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
import pytest

from cartwheel.generate import generate
from cartwheel.generate.core import generate_batches
from tests.conftest import run_cli
from tests.pg_server import PostgresServer, binaries_available, new_database, shared_server
from tests.test_ship_to import write_raw

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not binaries_available(), reason="initdb/pg_ctl not on PATH"),
]

Runner = Callable[[str], list[tuple]]
COMPARED_SCHEMAS = ("production", "warehouse")
# Load and build times differ between any two runs; everything else must not.
VOLATILE_COLUMNS = {"created_at", "updated_at", "loaded_at"}


def _column_kinds(run: Runner, schema: str) -> dict[str, list[tuple[str, str]]]:
    """table -> [(column, kind)] with kind number/text/date/bool/other, in order."""
    tables: dict[str, list[tuple[str, str]]] = {}
    rows = run(
        "select table_name, column_name, lower(data_type) from information_schema.columns "
        f"where table_schema = '{schema}' and table_name not like '%\\_\\_next' escape '\\' "
        "order by table_name, ordinal_position"
    )
    for table, column, data_type in rows:
        if any(word in data_type for word in ("int", "numeric", "decimal", "double", "real")):
            kind = "number"
        elif any(word in data_type for word in ("char", "text", "varchar")):
            kind = "text"
        elif data_type == "date":
            kind = "date"
        elif data_type == "boolean":
            kind = "bool"
        else:
            kind = "other"
        tables.setdefault(table, []).append((column, kind))
    return tables


def fingerprint(run: Runner, schema: str) -> dict[str, dict[str, object]]:
    """Per table: row count, and per column a sum / distinct count / range."""
    result: dict[str, dict[str, object]] = {}
    for table, columns in _column_kinds(run, schema).items():
        parts = ["count(*)"]
        names = ["rows"]
        for column, kind in columns:
            if column in VOLATILE_COLUMNS or kind == "other":
                continue
            if kind == "number":
                parts.append(f"sum({column})")
            elif kind == "bool":
                parts.append(f"sum(case when {column} then 1 else 0 end)")
            elif kind == "date":
                parts.append(
                    f"cast(min({column}) as varchar) || '/' || cast(max({column}) as varchar)"
                )
            else:
                parts.append(f"count(distinct {column})")
            names.append(column)
        values = run(f"select {', '.join(parts)} from {schema}.{table}")[0]
        result[table] = dict(zip(names, values, strict=True))
    return result


def same_number(left: object, right: object) -> bool:
    if isinstance(left, Decimal | int) and isinstance(right, Decimal | int):
        return Decimal(left) == Decimal(right)
    if left is None or right is None:
        return left is right
    if isinstance(left, str) or isinstance(right, str):
        return left == right
    return math.isclose(float(left), float(right), rel_tol=1e-9, abs_tol=1e-9)


def assert_same_fingerprints(duck: dict, pg: dict) -> None:
    assert sorted(duck) == sorted(pg), "different tables"
    differences = [
        f"{table}.{column}: duckdb {duck[table][column]!r} postgres {pg[table].get(column)!r}"
        for table in duck
        for column in duck[table]
        if not same_number(duck[table][column], pg[table].get(column))
    ]
    assert not differences, "\n".join(differences)


def analytics_files(data_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((data_dir / "analytics").glob("query*.csv"))}


def run_both(raw: Path, tmp: Path, url: str) -> tuple[Path, Path]:
    duck_dir, pg_dir = tmp / "duckdb", tmp / "postgres"
    run_cli("run", "--input", str(raw), "--data-dir", str(duck_dir))
    run_cli(
        "run", "--input", str(raw), "--data-dir", str(pg_dir),
        "--engine", "postgres", "--database-url", url,
    )  # fmt: skip
    return duck_dir, pg_dir


def duck_runner(data_dir: Path) -> tuple[Runner, Callable[[], None]]:
    con = duckdb.connect(str(data_dir / "cartwheel.duckdb"), read_only=True)
    return (lambda sql: con.execute(sql).fetchall()), con.close


def pg_runner(url: str) -> tuple[Runner, Callable[[], None]]:
    con = psycopg.connect(url, autocommit=True)
    return (lambda sql: con.execute(sql).fetchall()), con.close


def assert_parity(duck_dir: Path, pg_dir: Path, url: str) -> None:
    duck_files, pg_files = analytics_files(duck_dir), analytics_files(pg_dir)
    assert len(duck_files) == 10
    assert sorted(duck_files) == sorted(pg_files)
    different = [name for name in duck_files if duck_files[name] != pg_files[name]]
    assert not different, f"analytics differ: {different}"
    # The forecast (with the forecast extra) is fitted on the same daily series.
    duck_forecast, pg_forecast = (
        d / "analytics" / "forecast_revenue.csv" for d in (duck_dir, pg_dir)
    )
    assert duck_forecast.exists() == pg_forecast.exists()
    if duck_forecast.exists():  # not without the extra, nor on under 8 weeks of history
        assert duck_forecast.read_bytes() == pg_forecast.read_bytes()

    duck, close_duck = duck_runner(duck_dir)
    pg, close_pg = pg_runner(url)
    try:
        for schema in COMPARED_SCHEMAS:
            assert_same_fingerprints(fingerprint(duck, schema), fingerprint(pg, schema))
        reasons = (
            "select entity, stage, reason, count(*) from ops.quarantine "
            "group by entity, stage, reason order by entity, stage, reason"
        )
        assert duck(reasons) == pg(reasons)
    finally:
        close_duck()
        close_pg()


@pytest.fixture(scope="module")
def server() -> PostgresServer:
    return shared_server()


@pytest.fixture()
def parity(server: PostgresServer, tmp_path: Path) -> Iterator[Callable[[Path], Runner]]:
    """`parity(raw)`: run both engines over `raw`, assert parity, return a PostgreSQL
    query runner on the result."""
    closers = []

    def check(raw: Path) -> Runner:
        url = new_database(server)
        duck_dir, pg_dir = run_both(raw, tmp_path, url)
        assert_parity(duck_dir, pg_dir, url)
        pg, close = pg_runner(url)
        closers.append(close)
        return pg

    yield check
    for close in closers:
        close()


def test_one_shot_load_with_defects_is_identical_on_both_engines(parity, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    generate(raw, scale=1, seed=11, defect_rate=0.01)
    pg = parity(raw)
    # The defects reached quarantine on PostgreSQL too (the comparison is not vacuous).
    assert pg("select count(*) from ops.quarantine")[0][0] > 0
    assert pg("select count(*) from warehouse.fact_sales")[0][0] > 15000


def test_daily_batches_are_identical_on_both_engines(parity, tmp_path: Path) -> None:
    raw = tmp_path / "batches"
    generate_batches(raw, days=10, scale=1, seed=5)
    pg = parity(raw)
    assert pg("select count(*) from ops.processed_batches")[0][0] == 10
    # Customers and products changed along the way: history, not just current rows.
    assert pg("select count(*) from warehouse.dim_customers where not is_current")[0][0] > 0
    assert pg("select count(*) from warehouse.dim_products where not is_current")[0][0] > 0


def test_ship_to_geography_is_identical_on_both_engines(parity, tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "ship_to", with_ship_to=True)
    pg = parity(raw)
    assert pg(
        "select shipping_state, count(*) from warehouse.fact_sales "
        "group by shipping_state order by shipping_state"
    ) == [("California", 2), ("New Jersey", 1), (None, 2)]


def test_a_shops_own_data_is_identical_on_both_engines(parity) -> None:
    pg = parity(Path(__file__).parent / "fixtures" / "own_shop")
    # Names re-cased the same way (initcap), the shop's values kept as written.
    assert pg("select first_name, last_name from production.customers order by 1") == [
        ("Hamish", "MacDonald"),
        ("José María", "García"),
        ("Mary-Jane", "O'Neill"),
        ("Pieter", "van der Berg"),
        ("Siobhán", "O'Donnell"),
        ("Émile", "Dupont"),
        ("伟", "张"),
    ]
    assert pg("select count(*) from warehouse.dim_payment_method")[0][0] == 8
