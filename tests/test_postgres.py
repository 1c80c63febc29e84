"""PostgreSQL engine: translation equal to DuckDB, constraints and indexes, COPY loading,
transient and permanent failures, secrets. Each test uses its own database on one
throwaway server that the suite starts (tests/pg_server.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import psycopg
import pyarrow as pa
import pytest

from cartwheel.config import Settings
from cartwheel.engines import postgres as postgres_module
from cartwheel.engines.duckdb import DuckDBEngine
from cartwheel.engines.postgres import PostgresEngine
from cartwheel.engines.translation import TranslationError
from cartwheel.errors import SourceError
from cartwheel.generate import generate
from cartwheel.ingest.quarantine_table import ensure_quarantine
from cartwheel.orchestration import Pipeline, PipelineError
from cartwheel.orchestration.retry import is_transient
from tests.pg_server import PostgresServer, binaries_available, new_database, shared_server

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not binaries_available(), reason="initdb/pg_ctl not on PATH"),
]


@pytest.fixture(scope="module")
def server() -> PostgresServer:
    return shared_server()


@pytest.fixture()
def url(server: PostgresServer) -> str:
    return new_database(server)


@pytest.fixture()
def engine(url: str):
    pg = PostgresEngine(Settings(engine="postgres", database_url=url))
    pg.create_schemas()
    yield pg
    pg.close()


@pytest.fixture(scope="module")
def small_run(server: PostgresServer, tmp_path_factory: pytest.TempPathFactory):
    """A whole run at scale factor 0.1 on PostgreSQL: (settings, data folder)."""
    folder = tmp_path_factory.mktemp("pg_small")
    settings = Settings(
        engine="postgres",
        database_url=new_database(server),
        data_dir=folder / "data",
        scale=0.1,
        seed=3,
    )
    Pipeline(settings).run()
    return settings


# Translation: the same answers as DuckDB ---------------------------------------------

# Texts DuckDB's try_cast reads or rejects; the documented exceptions (1_000, 0x10,
# infinity, epoch) are left out on purpose, and so is NaN (never equal to itself).
TEXTS = [
    "2024-01-15", "2024-1-5", "2024-13-01", "2024-02-30", "2024-02-29", "2023-02-29",
    "not a date", "01/15/2024", "2024/01/15", "20240115", "2024-01-15T00:00:00",
    "2024-01-15 10:00:00", " 2024-01-15 ", "2024 01 15", "2024-01-15 BC", "2024.01.15",
    "12", " 12 ", "+12", "-12", "1.5", "1.4", "2.5", "-2.5", "1e3", "12abc", "", "  ",
    "2147483648", "-2147483648", "007", "1,000", "1.", ".5", "12.0",
    "12.345", "12.355", "-12.345", "12.3449", "1e2", "1.5e1", "$12.00", "12,50",
    "99999999999.99", "9999999999.99", "12.005", "-0", "999.995", "١٢",
    "2024/1/5", "2024-01/15", "2024/01-15", "\t2024-01-15\n", "2024-01-15-",
    "2024-01-15T10:00:00-05:00", "2024-00-10", "2024-01-00", "2024-04-31", "2024--01-15",
    "9999-12-31", "2024-011-15",
    # The `YYYY-MM-DD` fast path: month lengths, leap years, and texts it leaves to the reader.
    "1900-02-29", "2000-02-29", "2100-02-29", "2400-02-29", "2023-02-28", "2024-01-32",
    "2024-03-31", "2024-06-30", "2024-06-31", "2024-09-31", "2024-11-31", "2024-12-31",
    "0001-01-01", " 2024-01-15", "2024-01-15 ", "2024-02-29T23:59:59", "2023-02-29 10:00:00",
    # The edges of each range (the helpers clip a number to just outside it).
    "2147483647", "-2147483649", "2147483647.4", "2147483647.5", "-2147483648.5", "32767",
    "32768", "-32768", "-32769", "999.99", "1000", "-999.994", "-999.995", "9999999999.994",
]  # fmt: skip
CASTS = ["date", "integer", "bigint", "smallint", "decimal(12, 2)", "decimal(5, 2)", "double"]


def test_try_cast_reads_text_like_duckdb(engine: PostgresEngine) -> None:
    select = ", ".join(f"try_cast(v as {t}) as c{i}" for i, t in enumerate(CASTS))
    sql = f"select i, {select} from texts order by i"
    table = pa.table({"i": pa.array(range(len(TEXTS)), pa.int64()), "v": pa.array(TEXTS)})
    duck = duckdb.connect()
    duck.register("texts", table)
    expected = duck.execute(sql).fetchall()
    engine.execute("create temporary table texts (i bigint, v text)")
    engine.copy_arrow("texts", table.to_reader())
    got = engine.query(sql)
    differences = [(TEXTS[e[0]], e, g) for e, g in zip(expected, got, strict=True) if e != g]
    assert not differences
    # Not vacuous: some texts parse, some do not, for every type.
    for column in range(1, len(CASTS) + 1):
        values = [row[column] for row in expected]
        assert any(v is None for v in values) and any(v is not None for v in values)


def test_round_avg_and_division_equal_duckdb_to_the_last_bit(engine: PostgresEngine) -> None:
    """DuckDB divides and averages in DOUBLE and rounds a double's exact value; ties such
    as 8767.17 / 18 = 487.065 (487.0649999… as a double) must round the same way."""
    rng = np.random.default_rng(7)
    cents = rng.integers(1, 10**7, 20000)
    divisors = rng.integers(1, 60, 20000)
    table = pa.table(
        {
            "i": pa.array(np.arange(20000)),
            "g": pa.array(np.arange(20000) % 500),
            "amount": pa.array(cents / 100, pa.float64()).cast(pa.decimal128(12, 2)),
            "n": pa.array(divisors, pa.int32()),
        }
    )
    queries = [
        "select i, round(amount / n, 2), round(amount / n, 0), round(amount * 1.0 / n, 3) "
        "from t order by i",
        "select g, round(avg(amount), 2), round(avg(n), 2), round(sum(amount) / sum(n), 2) "
        "from t group by g order by g",
    ]
    duck = duckdb.connect()
    duck.register("t", table)
    engine.execute(
        "create temporary table t (i bigint, g bigint, amount decimal(12, 2), n integer)"
    )
    engine.copy_arrow("t", table.to_reader())
    for sql in queries:
        expected = duck.execute(sql).fetchall()
        got = engine.query(sql)
        assert got == expected
    ties = engine.query("select round(8767.17 / 18, 2), round(0.125, 2)")
    assert ties == [(487.06, Decimal("0.13"))]


def test_star_exclude_is_expanded_from_the_catalog(engine: PostgresEngine) -> None:
    engine.execute("create table staging.wide (a integer, b text, c date)")
    engine.execute("insert into staging.wide values (1, 'x', date '2024-01-01')")
    sql = "with w as (select *, a + 1 as d from staging.wide) select * exclude (b, d) from w"
    assert engine.columns("staging.wide") == ["a", "b", "c"]
    table = engine.query_arrow(sql)
    assert table.column_names == ["a", "c"]
    with pytest.raises(TranslationError):
        engine.query("select * exclude (b) from staging.missing")


def test_constructs_without_a_translation_are_refused(engine: PostgresEngine) -> None:
    with pytest.raises(TranslationError, match="build_table"):
        engine.execute("create or replace table warehouse.x as select 1 as a")
    with pytest.raises(TranslationError, match="GROUP BY ALL"):
        engine.query("select a, count(*) from t group by all")
    with pytest.raises(TranslationError, match="try_cast"):
        engine.query("select try_cast(a as interval) from t")


def test_query_arrow_keeps_types_nulls_and_empty_strings(engine: PostgresEngine) -> None:
    table = engine.query_arrow(
        "select 1 as a, cast(1.5 as numeric(18, 2)) as b, '' as c, cast(null as text) as d, "
        "date '2024-02-29' as e, true as f, sum(x) as g, 2.5::float8 as h "
        "from (values (1.25), (2.50)) as v(x)"
    )
    assert table.schema.types == [
        pa.int32(), pa.decimal128(18, 2), pa.string(), pa.string(),
        pa.date32(), pa.bool_(), pa.decimal128(38, 2), pa.float64(),
    ]  # fmt: skip
    assert table.to_pylist() == [
        {"a": 1, "b": Decimal("1.50"), "c": "", "d": None, "e": table["e"][0].as_py(),
         "f": True, "g": Decimal("3.75"), "h": 2.5}
    ]  # fmt: skip
    assert engine.query_arrow("select 1 as a where false").num_rows == 0


# Loading --------------------------------------------------------------------------------


def test_load_staging_copies_what_duckdb_stages_and_replaces_the_batch(
    engine: PostgresEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "customers.csv"
    source.write_text(
        "customer_id,first_name,last_name,email\n"
        "CUST0001,Ana,Lima,ana@example.com\n"
        'CUST0002,"Bo, Jr",Ng,"bo@example.com"\n'
        "CUST0003,broken,line,with,too,many,fields\n"
        "CUST0004,,Empty,e@example.com\n"
    )
    columns = ["customer_id", "first_name", "last_name", "email", "phone"]
    ensure_quarantine(engine)
    duck = DuckDBEngine(":memory:")
    duck.create_schemas()
    ensure_quarantine(duck)
    assert duck.load_staging("customers", columns, source, "b1") == 3

    statements: list[str] = []
    original = PostgresEngine._cursor_execute  # every statement the engine runs

    def spy(self: PostgresEngine, sql: str, params=None):
        statements.append(sql)
        return original(self, sql, params)

    monkeypatch.setattr(PostgresEngine, "_cursor_execute", spy)
    assert engine.load_staging("customers", columns, source, "b1") == 3
    assert engine.load_staging("customers", columns, source, "b1") == 3  # replaced
    assert not [s for s in statements if s.lstrip().lower().startswith("insert")]
    assert statements  # the spy saw the load

    staged = "select customer_id, first_name, last_name, email, phone, batch_id, source_file, "
    staged += "source_line from staging.customers order by source_line"
    assert engine.query(staged) == duck.query(staged)
    assert engine.query(staged)[1][1] == "Bo, Jr" and engine.query(staged)[2][1] is None
    rejects = "select entity, batch_id, source_line, raw_content, reason from ops.quarantine"
    assert engine.query(rejects) == duck.query(rejects)
    assert len(engine.query(rejects)) == 1  # the broken line, once after the reload
    duck.close()


def test_the_next_file_is_read_ahead_and_loaded_in_binary_without_waiting_for_the_disk(
    engine: PostgresEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "customer_id,first_name,last_name,email\n"
        "CUST0001,José María,O'Donnell,\n"
        'CUST0002,"张伟","van der Berg, Jr",""\n'
        'CUST0003,"Mac\nDonald",MacDonald,md@example.com\n'
    )
    products = tmp_path / "products.csv"
    products.write_text("product_id,product_name,price\nPROD001,Kettle,19.99\n")
    columns = ["customer_id", "first_name", "last_name", "email"]
    ensure_quarantine(engine)
    duck = DuckDBEngine(":memory:")
    duck.create_schemas()
    ensure_quarantine(duck)
    duck.load_staging("customers", columns, customers, "b1")

    read: list[str] = []
    statements: list[str] = []
    reading, executing = postgres_module._stage_in_duckdb, PostgresEngine._cursor_execute

    def read_spy(table: str, *args):  # noqa: ANN002 - the reader's own arguments
        read.append(table)
        return reading(table, *args)

    def statement_spy(self: PostgresEngine, sql: str, params=None):
        statements.append(sql)
        return executing(self, sql, params)

    copied: list[str] = []
    copying = PostgresEngine.copy_binary

    def copy_spy(self: PostgresEngine, target: str, batches: pa.RecordBatchReader) -> int:
        copied.append(target)
        return copying(self, target, batches)

    monkeypatch.setattr(PostgresEngine, "copy_binary", copy_spy)
    monkeypatch.setattr(postgres_module, "_stage_in_duckdb", read_spy)
    monkeypatch.setattr(PostgresEngine, "_cursor_execute", statement_spy)
    engine.prepare_staging("products", ["product_id", "product_name", "price"], products, "b1")
    assert engine.load_staging("customers", columns, customers, "b1") == 3  # not prepared
    assert engine.load_staging("products", ["product_id", "product_name", "price"], products, "b1")
    assert sorted(read) == ["customers", "products"]  # each file read once

    staged = "select customer_id, first_name, last_name, email, batch_id, source_line "
    staged += "from staging.customers order by source_line"
    assert engine.query(staged) == duck.query(staged)
    assert [row[1:4] for row in engine.query(staged)] == [
        ("José María", "O'Donnell", None),
        ("张伟", "van der Berg, Jr", None),  # DuckDB reads "" as NULL too
        ("Mac\nDonald", "MacDonald", "md@example.com"),
    ]
    assert engine.scalar("select count(*) from staging.customers where loaded_at is null") == 0
    assert copied == ["staging.customers", "staging.products"]  # binary COPY, no text file
    assert statements.count("set local synchronous_commit = off") == 2
    duck.close()


def test_a_file_read_ahead_that_cannot_be_read_fails_its_own_load(
    engine: PostgresEngine, tmp_path: Path
) -> None:
    ensure_quarantine(engine)
    missing = tmp_path / "products.csv"  # never written
    columns = ["product_id", "product_name", "price"]
    engine.prepare_staging("products", columns, missing, "b1")
    with pytest.raises(SourceError, match="products.csv"):
        engine.load_staging("products", columns, missing, "b1")
    assert not engine.table_exists("staging.products")


# Constraints and indexes -------------------------------------------------------------


def _constraints(run, schema: str) -> set[tuple[str, str]]:
    rows = run.query(
        "select c.relname, k.contype from pg_constraint k join pg_class c on c.oid = k.conrelid "
        "join pg_namespace n on n.oid = c.relnamespace where n.nspname = ?",
        [schema],
    )
    return {(table, kind) for table, kind in rows}


def _indexed(run, schema: str) -> set[tuple[str, str]]:
    rows = run.query(
        "select t.relname, a.attname from pg_index i join pg_class t on t.oid = i.indrelid "
        "join pg_namespace n on n.oid = t.relnamespace "
        "join pg_attribute a on a.attrelid = t.oid and a.attnum = i.indkey[0] "
        "where n.nspname = ?",
        [schema],
    )
    return {(table, column) for table, column in rows}


def test_production_has_real_constraints_and_the_spec_indexes(small_run: Settings) -> None:
    pg = PostgresEngine(small_run)
    try:
        constraints = _constraints(pg, "production")
        for table in ("customers", "products", "transactions", "transaction_items"):
            assert (table, "p") in constraints
        # customers have no CHECK: their vocabularies are the shop's own
        for table in ("products", "transactions", "transaction_items"):
            assert (table, "c") in constraints
        assert ("transactions", "f") in constraints and ("transaction_items", "f") in constraints
        foreign = pg.query(
            "select conrelid::regclass::text, confrelid::regclass::text from pg_constraint "
            "where contype = 'f' and connamespace = 'production'::regnamespace order by 1, 2"
        )
        assert foreign == [
            ("production.transaction_items", "production.products"),
            ("production.transaction_items", "production.transactions"),
            ("production.transactions", "production.customers"),
        ]
        not_null = pg.scalar(
            "select count(*) from information_schema.columns where table_schema = 'production' "
            "and table_name = 'transaction_items' and is_nullable = 'NO'"
        )
        assert not_null >= 8
        assert {
            ("transactions", "customer_id"),
            ("transactions", "transaction_date"),
            ("transaction_items", "transaction_id"),
            ("transaction_items", "product_id"),
        } <= _indexed(pg, "production")
        warehouse = _indexed(pg, "warehouse")
        for column in ("sales_key", "date_key", "customer_key", "product_key"):
            assert ("fact_sales", column) in warehouse
        assert ("fact_sales", "payment_method_key") in warehouse
        assert {("dim_customers", "customer_id"), ("dim_products", "product_id")} <= warehouse
        assert ("dim_date", "date_key") in warehouse
        assert ("dim_payment_method", "payment_method_name") in warehouse
        assert ("fact_sales", "p") in _constraints(pg, "warehouse")
    finally:
        pg.close()


def test_validated_tables_have_statistics_on_their_join_and_filter_columns(
    small_run: Settings,
) -> None:
    pg = PostgresEngine(small_run)
    try:
        analyzed = set(
            pg.query(
                "select tablename, attname from pg_stats where schemaname = 'staging' "
                "and tablename = 'transactions_validated'"
            )
        )
        dates = set(
            pg.query("select 'dim_date', attname from pg_stats where tablename = 'dim_date'")
        )
    finally:
        pg.close()
    table = "transactions_validated"
    for column in ("transaction_id", "customer_id", "batch_id", "disposition", "version_rank"):
        assert (table, column) in analyzed
    # Not the others (ANALYZE of every column took 2.3-2.9x as long) ...
    assert (table, "shipping_address") not in analyzed and (table, "items_total") not in analyzed
    # ... while a warehouse model keeps statistics on every column.
    assert {("dim_date", "month_name"), ("dim_date", "is_weekend")} <= dates


def test_a_constraint_violation_is_permanent_not_retried(small_run: Settings) -> None:
    pg = PostgresEngine(small_run)
    try:
        item = pg.query(
            "select item_id, transaction_id, product_id from production.transaction_items limit 1"
        )[0]
        before = pg.count("production.transaction_items")
        insert = (
            "insert into production.transaction_items (item_id, transaction_id, product_id, "
            "quantity, unit_price, discount_percentage, line_total, created_at, updated_at) "
            "values (?, ?, ?, ?, 10, 0, 10, current_timestamp, current_timestamp)"
        )
        with pytest.raises(psycopg.errors.ForeignKeyViolation) as orphan:
            pg.execute(insert, ["ITEM99999999", item[1], "PROD_NOPE", 1])
        with pytest.raises(psycopg.errors.CheckViolation) as zero:
            pg.execute(insert, ["ITEM99999998", item[1], item[2], 0])
        with pytest.raises(psycopg.errors.UniqueViolation), pg.transaction():
            pg.execute(insert, ["ITEM99999997", item[1], item[2], 1])
            pg.execute(insert, [item[0], item[1], item[2], 1])
        assert not is_transient(orphan.value) and not is_transient(zero.value)
        assert pg.count("production.transaction_items") == before  # nothing half-done
    finally:
        pg.close()


# Connections, retries and secrets ----------------------------------------------------


def _terminate(url: str, pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("select pg_terminate_backend(%s)", [pid])


def test_a_lost_connection_is_transient_and_reconnect_recovers(engine, url: str) -> None:
    _terminate(url, engine.scalar("select pg_backend_pid()"))
    with pytest.raises(psycopg.OperationalError) as lost:
        engine.query("select 1")
    assert is_transient(lost.value)
    engine.reconnect()
    assert engine.scalar("select 1") == 1


def test_a_run_survives_a_dropped_connection_by_retrying_the_step(
    server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = new_database(server)
    raw = tmp_path / "raw"
    generate(raw, scale=0.05, seed=1)
    settings = Settings(
        engine="postgres",
        database_url=url,
        data_dir=tmp_path / "data",
        input_dir=raw,
        retry_backoff_seconds=0,
    )
    original = PostgresEngine.build_table
    dropped: list[str] = []

    def drop_once(self: PostgresEngine, name: str, select_sql: str) -> int:
        if name.startswith("warehouse.") and not dropped:  # inside the step's transaction
            dropped.append(name)
            _terminate(url, self.scalar("select pg_backend_pid()"))
        return original(self, name, select_sql)

    monkeypatch.setattr(PostgresEngine, "build_table", drop_once)
    Pipeline(settings).run()
    report = json.loads((tmp_path / "data" / "pipeline_execution_report.json").read_text())
    assert report["status"] == "success"
    assert report["steps_executed"]["warehouse"]["retry_attempts"] == 1
    with psycopg.connect(url) as con:
        facts = con.execute("select count(*) from warehouse.fact_sales").fetchone()[0]
        items = con.execute("select count(*) from production.transaction_items").fetchone()[0]
    assert dropped and facts == items > 0


def test_password_from_the_environment_and_never_printed(
    server: PostgresServer, tmp_path: Path
) -> None:
    url = new_database(server)
    bare = url.replace(f":{server.password}@", "@")
    assert server.password not in bare
    raw = tmp_path / "raw"
    generate(raw, scale=0.05, seed=2)
    env = {"PATH": "/usr/bin:/bin", "PGPASSWORD": server.password, "HOME": str(tmp_path)}
    command = [sys.executable, "-m", "cartwheel.cli", "run", "--engine", "postgres"]
    ok = subprocess.run(
        [*command, "--database-url", bare, "--input", str(raw), "--data-dir", str(tmp_path / "a")],
        env=env, capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert bare.rsplit("@", 1)[1] in ok.stdout  # where the warehouse is, without secrets
    wrong = url.replace(server.password, "not-the-password-42")
    failed = subprocess.run(
        [*command, "--database-url", wrong, "--input", str(raw), "--data-dir", str(tmp_path / "b")],
        env={**env, "PGPASSWORD": ""}, capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert failed.returncode != 0
    assert "password authentication failed" in failed.stdout + failed.stderr
    for secret in (server.password, "not-the-password-42"):
        assert secret not in ok.stdout + ok.stderr + failed.stdout + failed.stderr
        for path in tmp_path.rglob("*"):
            if path.is_file() and path.suffix in {".json", ".log", ".jsonl", ".txt"}:
                assert secret not in path.read_text(errors="replace"), path


def test_the_session_uses_duckdbs_time_zone_so_today_is_the_same_day(engine) -> None:
    zone = duckdb.sql("select current_setting('TimeZone')").fetchall()[0][0]
    assert engine.scalar("select current_setting('TimeZone')") == zone
    assert (
        engine.scalar("select current_date") == duckdb.sql("select current_date").fetchall()[0][0]
    )


# A first load inserts the models' rows straight into the empty append-only tables; the
# keys and references are still checked there.


def _first_load_with(
    server: PostgresServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    table: str,
    extra_rows: str,
) -> tuple[str, Settings]:
    """A run into a fresh database whose `table` model also yields `extra_rows` (a
    SELECT over the model's own rows, called `promoted_rows`)."""
    from cartwheel.production import merge

    url = new_database(server)
    raw = tmp_path / "raw"
    generate(raw, scale=0.05, seed=4)
    settings = Settings(
        engine="postgres", database_url=url, data_dir=tmp_path / "data", input_dir=raw
    )
    render = merge.render

    def with_defect(model, engine) -> str:  # noqa: ANN001 - the model and engine render takes
        sql = render(model, engine)
        if model.name != table:
            return sql
        return (
            f"with promoted_rows as (select * from ({sql}) as model_rows) "
            f"select * from promoted_rows union all {extra_rows}"
        )

    monkeypatch.setattr(merge, "render", with_defect)
    return url, settings


def _production_counts(url: str) -> list[int]:
    with psycopg.connect(url) as con:
        return [
            con.execute(f"select count(*) from production.{table}").fetchone()[0]
            for table in ("customers", "products", "transactions", "transaction_items")
        ]


def test_a_duplicate_item_id_in_a_first_load_is_rejected(
    server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, settings = _first_load_with(
        server, tmp_path, monkeypatch, "transaction_items",
        "select * from promoted_rows where item_id = (select min(item_id) from promoted_rows)",
    )  # fmt: skip
    with pytest.raises(PipelineError) as failed:
        Pipeline(settings).run()
    assert "transaction_items_pkey" in str(failed.value)
    assert _production_counts(url) == [0, 0, 0, 0]  # the whole step rolled back


def test_an_orphan_product_in_a_first_load_is_rejected(
    server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, settings = _first_load_with(
        server, tmp_path, monkeypatch, "transaction_items",
        "select 'ITEM-ODONNELL-1', transaction_id, 'PROD-NOT-IN-CATALOGUE', quantity, "
        "unit_price, discount_percentage, line_total from promoted_rows "
        "where item_id = (select min(item_id) from promoted_rows)",
    )  # fmt: skip
    with pytest.raises(PipelineError) as failed:
        Pipeline(settings).run()
    assert "transaction_items_product_id_fkey" in str(failed.value)
    assert _production_counts(url) == [0, 0, 0, 0]


def test_a_first_load_appends_every_promoted_row_and_a_reload_adds_none(
    server: PostgresServer, tmp_path: Path
) -> None:
    url = new_database(server)
    raw = tmp_path / "raw"
    generate(raw, scale=0.05, seed=4)
    settings = Settings(
        engine="postgres", database_url=url, data_dir=tmp_path / "data", input_dir=raw
    )
    Pipeline(settings).run(steps=["ingest", "quality", "production"])
    summary = tmp_path / "data" / "transformation_summary.json"
    first = json.loads(summary.read_text())["records_processed"]
    counts = _production_counts(url)
    with psycopg.connect(url) as con:
        promoted = con.execute(
            "select count(*) from staging.transaction_items_validated "
            "where reject_reason is null and version_rank = 1"
        ).fetchone()[0]
    items = first["transaction_items"]
    assert counts[3] == promoted == items["inserted"] == items["table_rows"] > 0
    assert items["merged_into_production"] == promoted
    Pipeline(settings).run(steps=["ingest", "quality", "production"])
    again = json.loads(summary.read_text())["records_processed"]["transaction_items"]
    assert again["inserted"] == 0 and again["table_rows"] == promoted
    assert _production_counts(url) == counts
