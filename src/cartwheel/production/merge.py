"""Merge the production models into the 3NF tables, one batch at a time.

Customers and products: every accepted row is kept in `production.<entity>_history`
under the batch's business date (one row per key and date: the batch's last row for the
key wins), and the production table holds, per key, the history row with the latest
date. So a late batch (an older date) adds its history but never overwrites a newer
version. Transactions and items are appended by id, so loading the same rows twice
changes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from cartwheel import progress
from cartwheel.contract import ENTITIES, PRIMARY_KEYS
from cartwheel.engines import Engine
from cartwheel.ingest.batches import business_date
from cartwheel.models import load_models, render
from cartwheel.production.integrity import touched, verify
from cartwheel.schema_upgrade import drop_stale_not_null
from cartwheel.sqlfiles import sql_statements

# Tables whose rows are replaced by their latest version; the others are append-only.
LATEST_VERSION = {"customers": "customer_history", "products": "product_history"}
# Columns of every production table that the merge sets, not the model.
AUDIT_COLUMNS = ("created_at", "updated_at")


@dataclass
class TableMerge:
    table: str
    input: int
    inserted: int
    output: int


def create_production_tables(engine: Engine) -> None:
    for statement in sql_statements("production/ddl.sql"):
        engine.execute(statement)
    drop_stale_not_null(engine, "production/ddl.sql")


def _merge_sql(table: str, source: str, columns: list[str]) -> str:
    """Append the rows whose key is new; for latest-version tables also update the rows
    whose values changed. Set-based (an anti-join or a MERGE), no index needed."""
    key = PRIMARY_KEYS[table]
    names = ", ".join(columns)
    if table not in LATEST_VERSION:
        return (
            f"insert into production.{table} ({names}, created_at, updated_at) "
            f"select {names}, current_timestamp, current_timestamp from {source} "
            f"where not exists (select 1 from production.{table} as existing "
            f"where existing.{key} = {source}.{key})"
        )
    changeable = [c for c in columns if c != key]
    assignments = ", ".join(f"{c} = incoming.{c}" for c in changeable)
    changed = " or ".join(f"target.{c} is distinct from incoming.{c}" for c in changeable)
    values = ", ".join(f"incoming.{c}" for c in columns)
    return (
        f"merge into production.{table} as target using {source} as incoming "
        f"on target.{key} = incoming.{key} "
        f"when matched and ({changed}) then update set {assignments}, "
        f"updated_at = current_timestamp "
        f"when not matched then insert ({names}, created_at, updated_at) "
        f"values ({values}, current_timestamp, current_timestamp)"
    )


def _record_history(engine: Engine, table: str, columns: list[str], day: date) -> str:
    """Write the incoming versions to the history table; returns a temporary table with
    the latest history row of every incoming key (what production must hold)."""
    history = f"production.{LATEST_VERSION[table]}"
    key = PRIMARY_KEYS[table]
    names = ", ".join(columns)
    incoming = f"incoming_{table}"
    # Re-processing a batch replaces its versions rather than adding them twice.
    engine.execute(
        f"delete from {history} where business_date = ? "
        f"and {key} in (select {key} from {incoming})",
        [day],
    )
    engine.execute(
        f"insert into {history} ({key}, business_date, "
        f"{', '.join(c for c in columns if c != key)}, batch_id, loaded_at) "
        f"select {key}, cast(? as date), {', '.join(c for c in columns if c != key)}, "
        f"(select max(batch_id) from ops.run_batches), current_timestamp from {incoming}",
        [day],
    )
    latest = f"latest_{table}"
    engine.execute(f"drop table if exists {latest}")
    engine.execute(
        f"create temporary table {latest} as "
        f"select {names} from ("
        f"select {names}, row_number() over "
        f"(partition by {key} order by business_date desc) as recency "
        f"from {history} where {key} in (select {key} from {incoming})"
        f") as ranked where recency = 1"
    )
    return latest


def _append_to_empty(engine: Engine, table: str, model_sql: str) -> int:
    """An append-only table that is still empty, on an engine that declares its keys:
    the model's rows go straight in. Nothing exists to anti-join against, so no temporary
    copy of the rows is needed, and the keys are checked by the server (keys.sql, or per
    row once declared) like those of any other load. Returns the rows appended."""
    columns = [c for c in engine.columns(f"production.{table}") if c not in AUDIT_COLUMNS]
    names = ", ".join(columns)
    engine.execute(
        f"insert into production.{table} ({names}, created_at, updated_at) "
        f"select {names}, current_timestamp, current_timestamp from ({model_sql}) as promoted"
    )
    return engine.count(f"production.{table}")


def load_production(engine: Engine, tables_ready: bool = False) -> list[TableMerge]:
    """Build the incoming rows of each table from its model and merge them in; the
    promoted items are queued for the warehouse (ops.warehouse_backlog).
    `tables_ready`: an earlier step of this run created the production tables."""
    if not tables_ready:
        engine.create_schemas()
        create_production_tables(engine)
    models = {model.name: model for model in load_models("production")}
    day = business_date(engine, tables_ready)
    inputs: dict[str, int] = {}
    declared = engine.capabilities.constraints  # keys declared (PostgreSQL), not proven
    targets = [f"production.{table}" for table in ENTITIES]
    with engine.transaction():
        before = engine.counts(targets)
        # Parents before children, so every foreign key finds its row.
        for table in ENTITIES:
            began = time.perf_counter()
            incoming = f"incoming_{table}"
            if declared and before[f"production.{table}"] == 0 and table not in LATEST_VERSION:
                inputs[table] = _append_to_empty(engine, table, render(models[table], engine))
                progress.report("production", table, inputs[table], time.perf_counter() - began)
                continue
            engine.execute(f"drop table if exists {incoming}")
            engine.execute(f"create temporary table {incoming} as {render(models[table], engine)}")
            columns = engine.columns(incoming)
            if not declared:  # the scoped proof's keys; declared constraints need none
                engine.execute(f"drop table if exists {touched(table)}")
                engine.execute(
                    f"create temporary table {touched(table)} as "
                    f"select distinct {PRIMARY_KEYS[table]} from {incoming}"
                )
            source = incoming
            if table in LATEST_VERSION:
                source = _record_history(engine, table, columns, day)
            engine.execute(_merge_sql(table, source, columns))
            inputs[table] = engine.count(incoming)
            progress.report("production", table, inputs[table], time.perf_counter() - began)
            for name in {incoming, source}:
                engine.execute(f"drop table {name}")
        after = engine.counts(targets)
        for statement in sql_statements("production/backlog.sql"):
            engine.execute(statement)
        if declared:
            engine.declare_production_keys()
        else:
            verify(engine, scoped=engine.state_proven)
            # Proven now: the run's later batches need check only the keys they touch.
            engine.state_proven = True
            for table in ENTITIES:
                engine.execute(f"drop table {touched(table)}")
    return [
        TableMerge(table, inputs[table], after[name] - before[name], after[name])
        for table, name in zip(ENTITIES, targets, strict=True)
    ]
