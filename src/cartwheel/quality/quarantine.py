"""`ops.quarantine`: every row that could not go further, with its raw text, lineage and
reason. Rows stay after they are released (a later run promoted them), marked with when
and by which run, so the table is also the history of what was held back and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from cartwheel.contract import OPTIONAL_COLUMNS, PRIMARY_KEYS, RAW_COLUMNS, core_columns
from cartwheel.engines import Engine
from cartwheel.sqltext import check_identifier

# Entities whose rows depend on other entities (a late customer or product can make an
# orphan valid): their quarantined rows are examined again on every run.
RETRYABLE = ("transactions", "transaction_items")


def _csv_field_sql(ref: str) -> str:
    return (
        f"case when {ref} is null then '' "
        f"when {ref} like '%,%' or {ref} like '%\"%' or {ref} like '%' || chr(10) || '%' "
        f"or {ref} like '%' || chr(13) || '%' "
        f"then '\"' || replace({ref}, '\"', '\"\"') || '\"' else {ref} end"
    )


def csv_line_sql(entity: str, alias: str) -> str:
    """SQL rebuilding an entity's CSV line from its text columns (quoted where CSV needs
    quotes). Optional columns are appended only when the row has one of them."""
    optional = OPTIONAL_COLUMNS.get(entity, ())
    refs = {column: f"{alias}.{check_identifier(column)}" for column in RAW_COLUMNS[entity]}
    line = " || ',' || ".join(_csv_field_sql(refs[c]) for c in core_columns(entity))
    if not optional:
        return line
    tail = "".join(f" || ',' || {_csv_field_sql(refs[c])}" for c in optional)
    present = " or ".join(f"{refs[c]} is not null" for c in optional)
    return f"{line} || case when {present} then ''{tail} else '' end"


def record_rejects(engine: Engine, run_id: str) -> dict[str, int]:
    """Replace the quality-stage quarantine rows of this run's rows with the current
    rejects of the `*_validated` models; release retried rows that now pass.

    Returns rows quarantined per entity by this run.
    """
    counts = {}
    rejected, existing = _reject_probe(engine)
    for entity in RAW_COLUMNS:
        counts[entity] = rejected[entity]
        if not rejected[entity] and not existing.get(entity):
            # Nothing to release, replace or add: the statements below would change no row
            # (a clean daily batch skips them; each cost a few ms of planning).
            continue
        key = PRIMARY_KEYS[entity]
        validated = f"staging.{entity}_validated"
        # Rows examined again by this run (quarantined earlier, from an older batch).
        examined = (
            f"select batch_id, source_file, source_line from {validated} "
            "where batch_id not in (select batch_id from ops.run_batches)"
        )
        engine.execute(
            "update ops.quarantine set released_at = current_timestamp, released_run_id = ? "
            "where entity = ? and stage = 'quality' and released_at is null "
            f"and exists (select 1 from {validated} v where v.disposition <> 'quarantined' "
            "and v.batch_id = ops.quarantine.batch_id "
            "and v.source_file = ops.quarantine.source_file "
            "and v.source_line = ops.quarantine.source_line)",
            [run_id, entity],
        )
        # This run's batches are decided afresh; retried rows still rejected are replaced
        # too (their reason may have changed), keeping their first quarantine time.
        engine.execute("drop table if exists quarantine_kept")
        engine.execute(
            "create temporary table quarantine_kept as "
            "select q.batch_id, q.source_file, q.source_line, min(q.quarantined_at) as first_at "
            f"from ops.quarantine q join ({examined}) e on q.batch_id = e.batch_id "
            "and q.source_file = e.source_file and q.source_line = e.source_line "
            "where q.entity = ? and q.stage = 'quality' and q.released_at is null "
            "group by q.batch_id, q.source_file, q.source_line",
            [entity],
        )
        engine.execute(
            "delete from ops.quarantine where entity = ? and stage = 'quality' and ("
            "batch_id in (select batch_id from ops.run_batches) or (released_at is null and "
            "exists (select 1 from quarantine_kept k where k.batch_id = ops.quarantine.batch_id "
            "and k.source_file = ops.quarantine.source_file "
            "and k.source_line = ops.quarantine.source_line)))",
            [entity],
        )
        engine.execute(
            "insert into ops.quarantine (entity, batch_id, source_file, source_line, "
            "record_key, raw_content, reason, stage, run_id, quarantined_at) "
            f"select ?, v.batch_id, v.source_file, v.source_line, s.{key}, "
            f"{csv_line_sql(entity, 's')}, v.reject_reason, 'quality', ?, "
            "coalesce(k.first_at, current_timestamp) "
            f"from {validated} v "
            f"join staging.{entity} s on s.batch_id = v.batch_id "
            "and s.source_file = v.source_file and s.source_line = v.source_line "
            "left join quarantine_kept k on k.batch_id = v.batch_id "
            "and k.source_file = v.source_file and k.source_line = v.source_line "
            "where v.disposition = 'quarantined'",
            [entity, run_id],
        )
        engine.execute("drop table quarantine_kept")
    return counts


def _reject_probe(engine: Engine) -> tuple[dict[str, int], dict[str, int]]:
    """Per entity, in one query: rows the `*_validated` model rejects, and the
    quality-stage quarantine rows record_rejects could touch (held, or of this run's
    batches)."""
    parts = [
        f"select '{entity}' as entity, 'rejected' as kind, count(*) as n "
        f"from staging.{entity}_validated where disposition = 'quarantined'"
        for entity in RAW_COLUMNS
    ]
    parts.append(
        "select entity, 'existing' as kind, count(*) as n from ops.quarantine "
        "where stage = 'quality' and (released_at is null "
        "or batch_id in (select batch_id from ops.run_batches)) group by entity"
    )
    rejected: dict[str, int] = {}
    existing: dict[str, int] = {}
    for entity, kind, n in engine.query(" union all ".join(parts)):
        (rejected if kind == "rejected" else existing)[entity] = int(n)
    return rejected, existing


def quarantine_counts(engine: Engine) -> dict[str, dict[str, int]]:
    """Rows held now from this run's batches, by entity and reason."""
    counts: dict[str, dict[str, int]] = {}
    for entity, reason, rows in engine.query(
        "select entity, reason, count(*) from ops.quarantine where released_at is null "
        "and batch_id in (select batch_id from ops.run_batches) "
        "group by entity, reason order by entity, reason"
    ):
        counts.setdefault(entity, {})[reason] = int(rows)
    return counts


@dataclass
class QuarantineSummary:
    by_reason: list[tuple[str, str, str, int]]  # entity, stage, reason, rows
    samples: list[tuple]  # entity, reason, batch_id, source_file, source_line, raw_content
    released: int


def summarise(engine: Engine, entity: str | None = None, samples: int = 3) -> QuarantineSummary:
    """What is held in quarantine now: counts by entity and reason, a few sample rows."""
    if not engine.table_exists("ops.quarantine"):
        return QuarantineSummary([], [], 0)
    where = "released_at is null"
    params: list[object] = []
    if entity is not None:
        where += " and entity = ?"
        params.append(entity)
    by_reason = engine.query(
        f"select entity, stage, reason, count(*) from ops.quarantine where {where} "
        "group by entity, stage, reason order by entity, count(*) desc, reason",
        params,
    )
    rows = engine.query(
        "select entity, reason, batch_id, source_file, source_line, raw_content from ("
        "select *, row_number() over (partition by entity, reason "
        "order by batch_id, source_line) as n "
        f"from ops.quarantine where {where}) as q where n <= ? "
        "order by entity, reason, batch_id, source_line",
        [*params, samples],
    )
    released = engine.scalar(
        "select count(*) from ops.quarantine where released_at is not null"
        + (" and entity = ?" if entity is not None else ""),
        params,
    )
    return QuarantineSummary(by_reason, rows, int(released or 0))


def render_quarantine(engine: Engine, entity: str | None, samples: int) -> list:
    """Rich tables for `cartwheel quarantine`: counts by entity and reason, samples."""
    from rich.table import Table

    from cartwheel.terminal import plain

    summary = summarise(engine, entity, samples)
    counts = Table(title="quarantined rows (held now)")
    for name in ("entity", "stage", "reason"):
        counts.add_column(name)
    counts.add_column("rows", justify="right")
    for row_entity, stage, reason, rows in summary.by_reason:
        counts.add_row(plain(row_entity), plain(stage), plain(reason), f"{rows:,}")
    counts.add_row("total", "", "", f"{sum(r[3] for r in summary.by_reason):,}")
    sample_table = Table(title=f"sample rows (up to {samples} per entity and reason)")
    for name in ("entity", "reason", "batch", "file:line", "raw content"):
        sample_table.add_column(name, overflow="fold")
    for row_entity, reason, batch_id, source_file, line, raw in summary.samples:
        name = (source_file or "").rsplit("/", 1)[-1]
        sample_table.add_row(
            *(plain(value) for value in (row_entity, reason, batch_id, f"{name}:{line}", raw or ""))
        )
    released = (
        f"{summary.released:,} row(s) released so far: examined again by a later run "
        "and promoted (orders and items are re-checked on every run)."
    )
    return [counts, sample_table, released]
