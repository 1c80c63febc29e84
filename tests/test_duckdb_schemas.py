"""DuckDB creates cartwheel's schemas once per connection: every step asks for them
(ingest and production once per batch), and each `create schema if not exists` is a
statement. The schemas are asked for again whenever they may be gone."""

from __future__ import annotations

from pathlib import Path

import pytest

from cartwheel.engines.base import SCHEMAS
from cartwheel.engines.duckdb import DuckDBEngine


class Counting(DuckDBEngine):
    """A DuckDB engine that keeps the text of every statement sent through its door."""

    sent: list[str]

    def query(self, sql: str, params: object = None) -> list[tuple]:
        self.sent.append(sql)
        return super().query(sql, params)


def engine_at(path: Path) -> Counting:
    engine = Counting(str(path))
    engine.sent = []
    return engine


def schemas_in(engine: DuckDBEngine) -> set[str]:
    rows = engine.query(
        "select schema_name from duckdb_schemas() where database_name = current_database()"
    )
    return {row[0] for row in rows} & set(SCHEMAS)


def creations(engine: Counting) -> int:
    return sum(sql.startswith("create schema") for sql in engine.sent)


def test_schemas_are_created_once_per_connection(tmp_path: Path) -> None:
    engine = engine_at(tmp_path / "shop.duckdb")
    for _ in range(8):  # SF1's eight calls: ingest, production and warehouse per batch
        engine.create_schemas()
    assert creations(engine) == len(SCHEMAS) == 4
    assert schemas_in(engine) == {"staging", "production", "warehouse", "ops"}


def test_a_rollback_forgets_schemas_created_inside_it(tmp_path: Path) -> None:
    engine = engine_at(tmp_path / "shop.duckdb")
    with pytest.raises(ZeroDivisionError), engine.transaction():
        engine.create_schemas()
        1 / 0  # noqa: B018 - a step failing after its set-up
    assert schemas_in(engine) == set()  # DuckDB rolled the creation back
    engine.create_schemas()
    assert creations(engine) == 8
    engine.execute("create table ops.quarantine_probe (line integer)")  # the schema is there


def test_drop_all_and_reconnect_create_the_schemas_again(tmp_path: Path) -> None:
    engine = engine_at(tmp_path / "shop.duckdb")
    engine.create_schemas()
    engine.drop_all()  # --rebuild
    engine.create_schemas()
    assert schemas_in(engine) == set(SCHEMAS)
    engine.reconnect()
    engine.create_schemas()
    assert creations(engine) == 12


def test_a_new_connection_creates_them_once_too(tmp_path: Path) -> None:
    first = engine_at(tmp_path / "shop.duckdb")
    first.create_schemas()
    first.close()
    second = engine_at(tmp_path / "shop.duckdb")
    second.create_schemas()
    second.create_schemas()
    assert creations(second) == 4
