"""Merge the production models into the constrained 3NF tables.

Customers and products hold the latest version (upsert); transactions and items are
appended by id, so loading the same rows twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from cartwheel.contract import ENTITIES, PRIMARY_KEYS
from cartwheel.engines import Engine
from cartwheel.models import load_models, render

# Tables whose rows are replaced by their latest version; the others are append-only.
LATEST_VERSION = {"customers", "products"}


@dataclass
class TableMerge:
    table: str
    input: int
    inserted: int
    output: int


def create_tables(engine: Engine) -> None:
    ddl = (resources.files("cartwheel") / "production" / "ddl.sql").read_text()
    for statement in ddl.split(";"):
        if statement.strip():
            engine.execute(engine.translate(statement))


def _merge_sql(table: str, columns: list[str]) -> str:
    key = PRIMARY_KEYS[table]
    names = ", ".join(columns)
    insert = (
        f"insert into production.{table} ({names}, created_at, updated_at) "
        f"select {names}, current_timestamp, current_timestamp from incoming_{table} "
    )
    if table not in LATEST_VERSION:
        return insert + f"on conflict ({key}) do nothing"
    changeable = [c for c in columns if c != key]
    assignments = ", ".join(f"{c} = excluded.{c}" for c in changeable)
    changed = " or ".join(
        f"production.{table}.{c} is distinct from excluded.{c}" for c in changeable
    )
    return (
        insert + f"on conflict ({key}) do update set {assignments}, "
        f"updated_at = excluded.updated_at where {changed}"
    )


def load_production(engine: Engine) -> list[TableMerge]:
    """Build the incoming rows of each table from its model and merge them in."""
    engine.create_schemas()
    create_tables(engine)
    models = {model.name: model for model in load_models("production")}
    merges = []
    with engine.transaction():
        # Parents before children, so every foreign key finds its row.
        for table in ENTITIES:
            incoming = f"incoming_{table}"
            before = engine.count(f"production.{table}")
            engine.execute(f"drop table if exists {incoming}")
            engine.execute(f"create temporary table {incoming} as {render(models[table], engine)}")
            engine.execute(_merge_sql(table, engine.columns(incoming)))
            after = engine.count(f"production.{table}")
            merges.append(TableMerge(table, engine.count(incoming), after - before, after))
            engine.execute(f"drop table {incoming}")
    return merges
