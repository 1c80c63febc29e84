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

TERMS = ("rows_in", "rows_promoted", "rows_quarantined", "duplicates_removed")

CONSERVATION_DDL = """
create table if not exists ops.batch_conservation (
    run_id varchar not null,
    batch_id varchar not null,
    entity varchar not null,
    rows_in bigint not null,
    rows_promoted bigint not null,
    rows_quarantined bigint not null,
    duplicates_removed bigint not null,
    balanced boolean not null,
    recorded_at timestamp not null
)
"""


def conservation(engine: Engine) -> list[dict]:
    """One row per batch of this run and entity, with the four counts and `balanced`."""
    rows = []
    for entity in ENTITIES:
        counts = engine.query(
            f"""
            select
                b.batch_id,
                (select count(*) from staging.{entity} s where s.batch_id = b.batch_id)
                + (select count(*) from ops.quarantine q
                   where q.entity = '{entity}' and q.stage = 'ingest'
                   and q.batch_id = b.batch_id) as rows_in,
                (select count(*) from staging.{entity}_validated v
                 where v.batch_id = b.batch_id and v.disposition = 'promoted') as promoted,
                (select count(*) from ops.quarantine q
                 where q.entity = '{entity}' and q.batch_id = b.batch_id
                 and q.released_at is null) as quarantined,
                (select count(*) from staging.{entity}_validated v
                 where v.batch_id = b.batch_id and v.disposition = 'duplicate') as duplicates
            from (select distinct batch_id from ops.run_batches) as b
            order by b.batch_id
            """
        )
        for batch_id, rows_in, promoted, quarantined, duplicates in counts:
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


def record_conservation(engine: Engine, run_id: str, rows: list[dict]) -> None:
    """Keep the equation of every batch and entity in the run history."""
    engine.execute(engine.translate(CONSERVATION_DDL))
    for row in rows:
        engine.execute(
            "insert into ops.batch_conservation values (?, ?, ?, ?, ?, ?, ?, ?, current_timestamp)",
            [
                run_id,
                row["batch_id"],
                row["entity"],
                row["rows_in"],
                row["rows_promoted"],
                row["rows_quarantined"],
                row["duplicates_removed"],
                row["balanced"],
            ],
        )


def records_processed(engine: Engine, merges: list) -> dict[str, dict]:
    """`transformation_summary.json`'s records_processed: per table input, output,
    filtered and rejected reasons, with the conservation terms and the merge counts.

    `merges` are production.loader.TableMerge results (table, input, inserted, output).
    """
    totals: dict[str, dict] = {}
    for row in conservation(engine):
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
