"""trim() removes the same characters on every engine: DuckDB's set, the Unicode space
separators (a no-break space after an id exported from a spreadsheet), not tabs or a
zero-width space. PostgreSQL and Spark trim only the ASCII space unless told."""

from __future__ import annotations

import pytest

from cartwheel.config import Settings
from cartwheel.engines.duckdb import DuckDBEngine
from cartwheel.engines.postgres import PostgresEngine
from cartwheel.engines.spark_sql import parse, to_spark
from cartwheel.sqltext import SPACE_SEPARATORS
from tests.pg_server import binaries_available, new_database, shared_server

SPACES = ["\u00a0", "\u2003", "\u202f", "\u3000", " ", "\t", "\u200b", "\n"]
TEXTS = [f"{space}TXN00001{space}" for space in SPACES]


def duckdb_trims(function: str) -> list[str]:
    duck = DuckDBEngine(":memory:")
    try:
        return [duck.scalar(f"select {function}(?)", [text]) for text in TEXTS]
    finally:
        duck.close()


def test_duckdb_trims_the_space_separators_only() -> None:
    assert duckdb_trims("trim") == ["TXN00001"] * 5 + TEXTS[5:]


@pytest.mark.postgres
@pytest.mark.skipif(not binaries_available(), reason="initdb/pg_ctl not on PATH")
@pytest.mark.parametrize("function", ["trim", "ltrim", "rtrim"])
def test_postgres_trims_what_duckdb_trims(function: str) -> None:
    pg = PostgresEngine(Settings(engine="postgres", database_url=new_database(shared_server())))
    try:
        got = [pg.scalar(f"select {function}(?)", [text]) for text in TEXTS]
    finally:
        pg.close()
    assert got == duckdb_trims(function)


def test_spark_sql_names_the_characters() -> None:
    sql = to_spark(parse("select trim(x), rtrim(x), trim(x, 'ab') from t")[0])
    assert sql == (
        f"SELECT TRIM('{SPACE_SEPARATORS}' FROM x), TRIM(TRAILING '{SPACE_SEPARATORS}' FROM x), "
        "TRIM('ab' FROM x) FROM t"
    )
