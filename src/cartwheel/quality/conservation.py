"""Nothing lost: for every batch and entity of a run,
`rows in = rows promoted + rows quarantined + duplicates removed`.

Each term is counted from a different place — rows in from staging plus the records
ingest could not parse, promoted and duplicates from the `*_validated` models, quarantined
from `ops.quarantine` itself — so the equation is a real check, not arithmetic.
"""

from __future__ import annotations

from cartwheel.contract import ENTITIES
from cartwheel.engines import Engine
from cartwheel.quality.quarantine import quarantine_counts
from cartwheel.sqlfiles import table_ddl

TERMS = ("rows_in", "rows_promoted", "rows_quarantined", "duplicates_removed")


def conservation(engine: Engine) -> list[dict]:
    """One row per batch of this run and entity, with the four counts and `balanced`."""
    rows = []
    for batch_id, entity, rows_in, promoted, quarantined, duplicates in engine.query(
        _CONSERVATION_SQL
    ):
        rows.append(
            {
                "batch_id": batch_id,
                "entity": entity,
                "rows_in": int(rows_in),
                "rows_promoted": int(promoted),
                "rows_quarantined": int(quarantined),
                "duplicates_removed": int(duplicates),
                "balanced": int(rows_in) == int(promoted) + int(quarantined) + int(duplicates),
            }
        )
    return rows


def _conservation_sql() -> str:
    """All entities in one statement: each source is scanned once, grouped by batch (one
    query per entity with correlated counts cost ~10 ms each, three times per batch)."""
    entities = ", ".join(f"({n}, '{e}')" for n, e in enumerate(ENTITIES))
    staged = " union all ".join(
        f"select '{e}' as entity, batch_id, count(*) as n from staging.{e} "
        "where batch_id in (select batch_id from batches) group by batch_id"
        for e in ENTITIES
    )
    validated = " union all ".join(
        f"select '{e}' as entity, batch_id, "
        "sum(case when disposition = 'promoted' then 1 else 0 end) as promoted, "
        "sum(case when disposition = 'duplicate' then 1 else 0 end) as duplicates "
        f"from staging.{e}_validated "
        "where batch_id in (select batch_id from batches) group by batch_id"
        for e in ENTITIES
    )
    return f"""
    with batches as (
        select distinct batch_id from ops.run_batches
    ),
    entities as (
        select * from (values {entities}) as e (ordinal, entity)
    ),
    staged as ({staged}),
    validated as ({validated}),
    quarantined as (
        -- ingest rejects count as rows in; rows still held count as quarantined
        select entity, batch_id,
            sum(case when stage = 'ingest' then 1 else 0 end) as ingest_rejects,
            sum(case when released_at is null then 1 else 0 end) as held
        from ops.quarantine
        where batch_id in (select batch_id from batches)
        group by entity, batch_id
    )
    select
        b.batch_id,
        e.entity,
        coalesce(s.n, 0) + coalesce(q.ingest_rejects, 0) as rows_in,
        coalesce(v.promoted, 0) as promoted,
        coalesce(q.held, 0) as quarantined,
        coalesce(v.duplicates, 0) as duplicates
    from entities as e
    cross join batches as b
    left join staged as s on s.entity = e.entity and s.batch_id = b.batch_id
    left join validated as v on v.entity = e.entity and v.batch_id = b.batch_id
    left join quarantined as q on q.entity = e.entity and q.batch_id = b.batch_id
    order by e.ordinal, b.batch_id
    """


_CONSERVATION_SQL = _conservation_sql()


def equation(row: dict) -> str:
    """The equation with numbers, as the run report states it."""
    sign = "=" if row["balanced"] else "!="
    return (
        f"{row['entity']} [{row['batch_id']}]: rows in {row['rows_in']} {sign} "
        f"promoted {row['rows_promoted']} + quarantined {row['rows_quarantined']} "
        f"+ duplicates removed {row['duplicates_removed']}"
    )


def reprocessed(engine: Engine) -> dict[str, dict[str, int]]:
    """Rows of earlier batches examined again by this run, and how many now pass."""
    result = {}
    for entity in ("transactions", "transaction_items"):
        examined, released = engine.query(
            f"select count(*), coalesce(sum(case when disposition = 'promoted' then 1 else 0 "
            f"end), 0) from staging.{entity}_validated "
            "where batch_id not in (select batch_id from ops.run_batches)"
        )[0]
        result[entity] = {"examined": int(examined), "released": int(released)}
    return result


def record_conservation(
    engine: Engine, run_id: str, rows: list[dict], tables_ready: bool = False
) -> None:
    """Keep the equation of every batch and entity in the run history.
    `tables_ready`: an earlier batch of this run created the table."""
    if not tables_ready:
        engine.execute(table_ddl("ops/ddl.sql", "ops.batch_conservation"))
    if not rows:
        return
    # One statement for every batch and entity.
    values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, current_timestamp)"] * len(rows))
    engine.execute(
        f"insert into ops.batch_conservation values {values}",
        [
            value
            for row in rows
            for value in (
                run_id,
                row["batch_id"],
                row["entity"],
                row["rows_in"],
                row["rows_promoted"],
                row["rows_quarantined"],
                row["duplicates_removed"],
                row["balanced"],
            )
        ],
    )


def records_processed(
    engine: Engine, merges: list, balance: list[dict] | None = None
) -> dict[str, dict]:
    """`transformation_summary.json`'s records_processed: per table input, output,
    filtered and rejected reasons, with the conservation terms and the merge counts.

    `merges` are production.loader.TableMerge results (table, input, inserted, output);
    `balance` is `conservation(engine)` if the caller has it already.
    """
    totals: dict[str, dict] = {}
    for row in conservation(engine) if balance is None else balance:
        entry = totals.setdefault(row["entity"], dict.fromkeys(TERMS, 0))
        for key in entry:
            entry[key] += row[key]
    reasons = quarantine_counts(engine)
    processed = {}
    for entity in ENTITIES:
        t = totals.get(entity, dict.fromkeys(TERMS, 0))
        merge = next((m for m in merges if m.table == entity), None)
        processed[entity] = {
            "input": t["rows_in"],
            "output": t["rows_promoted"],
            "filtered": t["rows_quarantined"] + t["duplicates_removed"],
            "rejected_reasons": reasons.get(entity, {}),
            "quarantined": t["rows_quarantined"],
            "duplicates_removed": t["duplicates_removed"],
            "merged_into_production": merge.input if merge else None,
            "inserted": merge.inserted if merge else None,
            "table_rows": merge.output if merge else None,
        }
    return processed
