"""A database built by an older cartwheel, when last name and category were mandatory:
the next run drops those NOT NULLs, so a shop's one-word names (张伟) and uncategorised
products load without `--rebuild`."""

from __future__ import annotations

from pathlib import Path

import duckdb

from cartwheel.config import load_settings
from cartwheel.engines.duckdb import DuckDBEngine
from cartwheel.schema_upgrade import declared_not_null, drop_stale_not_null
from cartwheel.sqlfiles import sql_statements
from tests.conftest import run_cli
from tests.test_import_presets import WOO_TOTAL, write_woocommerce

# What the older DDL declared (and the current one leaves optional).
OLDER = {
    "    last_name varchar,": "    last_name varchar not null,",
    "    category varchar,": "    category varchar not null,",
    "    profit decimal(16, 4),": "    profit decimal(16, 4) not null,",
}


def nullable(database: Path, *columns: tuple[str, str, str]) -> list[str]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return [
            con.execute(
                "select is_nullable from information_schema.columns "
                "where table_schema = ? and table_name = ? and column_name = ?",
                list(column),
            ).fetchall()[0][0]
            for column in columns
        ]
    finally:
        con.close()


def test_an_older_database_loses_the_not_null_of_optional_columns(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    database = data / "cartwheel.duckdb"
    con = duckdb.connect(str(database))
    con.execute("create schema production; create schema warehouse; create schema ops")
    for path in ("production/ddl.sql", "warehouse/ddl.sql"):
        for statement in sql_statements(path):
            for new, old in OLDER.items():
                statement = statement.replace(new, old)
            con.execute(statement)
    con.close()
    columns = [
        ("production", "customers", "last_name"),
        ("production", "products", "category"),
        ("warehouse", "fact_sales", "profit"),
    ]
    assert nullable(database, *columns) == ["NO", "NO", "NO"]
    export = write_woocommerce(tmp_path / "orders-export.csv")
    run_cli("import", str(export), "--preset", "woocommerce", "--out", str(tmp_path / "raw"))
    run_cli("run", "--input", str(tmp_path / "raw"), "--data-dir", str(data))
    assert nullable(database, *columns) == ["YES", "YES", "YES"]
    con = duckdb.connect(str(database), read_only=True)
    try:
        revenue, profit = con.execute(
            "select sum(line_total), sum(profit) from warehouse.fact_sales"
        ).fetchall()[0]
        one_word = con.execute(
            "select count(*) from production.customers where last_name is null"
        ).fetchall()[0][0]
        indexes = con.execute(
            "select index_name from duckdb_indexes() where table_name = 'dim_products'"
        ).fetchall()
    finally:
        con.close()
    assert (revenue, profit, one_word) == (WOO_TOTAL, None, 1)
    assert indexes == [("idx_dim_products_product_id",)]  # taken off for the change, back


def test_a_current_database_needs_no_change(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    engine = DuckDBEngine.open(settings)
    try:
        engine.create_schemas()
        for statement in sql_statements("production/ddl.sql"):
            engine.execute(statement)
        assert drop_stale_not_null(engine, "production/ddl.sql") == []
        engine.execute("alter table production.customers alter column phone set not null")
        assert drop_stale_not_null(engine, "production/ddl.sql") == ["production.customers.phone"]
    finally:
        engine.close()


def test_the_ddl_files_declare_what_the_upgrade_keeps() -> None:
    production = declared_not_null("production/ddl.sql")
    assert production[("production", "customers")] == {
        "customer_id", "first_name", "created_at", "updated_at"
    }  # fmt: skip
    assert "category" not in production[("production", "products")]
    assert len(production) + len(declared_not_null("warehouse/ddl.sql")) == 25
