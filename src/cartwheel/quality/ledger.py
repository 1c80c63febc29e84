"""Score cleansing against the generator's ground truth (`defect_ledger.csv`).

Per defect kind: recall = ledger entries caught / entries that can be scored, and
precision = rows we flagged as that kind that the ledger lists / rows we flagged.

- A quarantinable entry is caught when its row (file, line) is in quarantine, or, for
  `duplicate_row`, removed as a duplicate.
- A repairable entry is caught when its row is promoted with the repaired value: the
  column in canonical form (trimmed, canonical case, digits-only phone) or, for
  `wrong_line_total` / `wrong_total_amount`, recomputed from the promoted items.
- A repairable entry whose row was held back because of another row's defect (its order
  had a bad item or lost its only item to a broken line, its item's order was rejected,
  its customer or product is in quarantine) cannot be scored and is counted apart.

The comparison runs in an in-process DuckDB over Arrow extracts of this run's rows, so it
is the same for every engine.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from cartwheel.contract import ENTITIES
from cartwheel.engines import Engine
from cartwheel.sqltext import string_literal
from cartwheel.vocabulary import CATEGORIES, PAYMENT_METHODS

# Our reason codes, as the ledger's defect kinds (for precision).
REASON_KINDS_SQL = """
case
    when reason = 'duplicate' then 'duplicate_row'
    when stage = 'ingest' then 'broken_csv_line'
    when reason like 'missing%' then 'missing_value'
    when reason = 'invalid_email' then 'malformed_email'
    when reason = 'invalid_phone' then 'malformed_phone'
    when reason = 'non_positive_quantity' then 'non_positive_quantity'
    when reason = 'discount_out_of_range' then 'discount_out_of_range'
    when reason = 'cost_not_below_price' then 'cost_above_price'
    when reason = 'orphan_customer_id' then 'orphan_customer_id'
    when reason = 'orphan_product_id' then 'orphan_product_id'
    when reason like 'future%' then 'future_date'
    when reason like 'unparseable%' or reason like 'invalid%' then 'unparseable_value'
    when reason in ('rejected_items', 'parent_transaction_rejected', 'customer_rejected',
        'product_rejected', 'no_items') then 'cascade'
    else 'other'
end
"""


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(string_literal(value) for value in values) + ")"


# Is the promoted value of a repaired column in canonical form? (The generator writes the
# default vocabulary's canonical values.)
REPAIRED_SQL = f"""
case
    when l.kind = 'padded_text' then v.value = trim(v.value)
    when l.kind = 'phone_punctuation' then regexp_full_match(v.value, '[0-9]+')
    when l.kind = 'miscased_text' and l."column" in ('first_name', 'last_name')
        then v.value = upper(v.value[1]) || lower(v.value[2:])
    when l.kind = 'miscased_text' and l."column" = 'email' then v.value = lower(v.value)
    when l.kind = 'miscased_text' and l."column" = 'category'
        then v.value in {_sql_list(CATEGORIES)}
    when l.kind = 'miscased_text' and l."column" = 'payment_method'
        then v.value in {_sql_list(PAYMENT_METHODS)}
    when l.kind = 'miscased_text' then v.value = trim(v.value)
    when l.kind in ('wrong_line_total', 'wrong_total_amount') then v.consistent
    else false
end
"""


def _extract(engine: Engine) -> dict[str, pa.Table]:
    """This run's rows: dispositions, promoted values as text, and quarantine."""
    tables = {
        "quarantine": engine.query_arrow(
            "select entity, source_file, source_line, reason, stage from ops.quarantine "
            "where released_at is null and batch_id in (select batch_id from ops.run_batches)"
        )
    }
    for entity in ENTITIES:
        tables[entity] = engine.query_arrow(
            f"select * from staging.{entity}_validated "
            "where batch_id in (select batch_id from ops.run_batches)"
        )
    return tables


def _pick_rows(con: duckdb.DuckDBPyConnection) -> None:
    """`<entity>_picked`: the validated rows the ledger names, with file, line and
    whether their amounts are consistent (computed once, before unpivoting)."""
    con.execute(
        "create table ledger_rows as select distinct entity, file, line from ledger"
    ).fetchall()
    consistent = {
        "transaction_items": "abs(coalesce(t.line_total, 0) - round(t.quantity * t.unit_price "
        "* (100 - t.discount_percentage) * 0.01, 2)) <= 0.001",
        "transactions": "t.transaction_id in (select transaction_id from transaction_items "
        "where disposition = 'promoted')",
    }
    for entity in ENTITIES:
        con.execute(
            f"create table {entity}_picked as select t.*, parse_filename(t.source_file) as file, "
            f"t.source_line as line, {consistent.get(entity, 'false')} as consistent "
            f"from {entity} t semi join ledger_rows l on l.entity = '{entity}' "
            "and l.file = parse_filename(t.source_file) and l.line = t.source_line"
        ).fetchall()


def _values_sql(con: duckdb.DuckDBPyConnection) -> str:
    """One row per (row, column) of the picked rows: its value as text."""
    parts = []
    skip = {
        "batch_id",
        "source_file",
        "source_line",
        "loaded_at",
        "reject_reason",
        "disposition",
        "raw_line_total",
        "version_rank",
        "file",
        "line",
        "consistent",
    }
    for entity in ENTITIES:
        columns = [c for c in con.table(f"{entity}_picked").columns if c not in skip]
        for column in columns:
            parts.append(
                f"select '{entity}' as entity, file, line, disposition, reject_reason, "
                f"version_rank, '{column.removeprefix('raw_')}' as column_name, "
                f'cast("{column}" as varchar) as value, consistent from {entity}_picked'
            )
    return " union all ".join(parts)


def score_ledger(engine: Engine, ledger_path: Path) -> dict:
    """Precision and recall per defect kind for this run's batches."""
    tables = _extract(engine)
    con = duckdb.connect()
    try:
        for name, table in tables.items():
            con.register(name, table)
        con.execute(
            "create table ledger as select * from read_csv(?, header = true, "
            "columns = {'file': 'VARCHAR', 'line': 'BIGINT', 'entity': 'VARCHAR', "
            "'key': 'VARCHAR', 'column': 'VARCHAR', 'kind': 'VARCHAR', 'repairable': 'BOOLEAN'})",
            [str(ledger_path)],
        ).fetchall()
        # Only the rows the ledger names are unpivoted.
        _pick_rows(con)
        con.execute(f"create table cell as {_values_sql(con)}").fetchall()
        con.execute(
            f"""
            create table flagged as
            select entity, parse_filename(source_file) as file, source_line as line,
                reason, stage, {REASON_KINDS_SQL} as kind
            from (
                select entity, source_file, source_line, reason, stage from quarantine
                union all
                select '{ENTITIES[0]}', source_file, source_line, 'duplicate', 'quality'
                from {ENTITIES[0]} where disposition = 'duplicate'
                {
                "".join(
                    f" union all select '{e}', source_file, source_line, 'duplicate', "
                    f"'quality' from {e} where disposition = 'duplicate'"
                    for e in ENTITIES[1:]
                )
            }
            ) as f
            """
        ).fetchall()
        # Joins only (no per-entry subqueries): the ledger can hold many thousand rows.
        outcome = con.execute(
            f"""
            with ledger_rows as (
                select distinct entity, file, line from ledger
            ),
            rows as (
                -- The validated row behind each ledger entry (one per row, not per column).
                select distinct c.entity, c.file, c.line, c.reject_reason
                from cell c join ledger_rows using (entity, file, line)
            ),
            flagged_rows as (
                select distinct entity, file, line from flagged
            ),
            repaired as (
                select l.entity, l.file, l.line, l."column", bool_and({REPAIRED_SQL}) as ok
                from ledger l
                join cell v on v.entity = l.entity and v.file = l.file and v.line = l.line
                    and v.column_name = l."column" and v.disposition = 'promoted'
                where l.repairable
                group by l.entity, l.file, l.line, l."column"
            ),
            judged as (
                select
                    l.kind,
                    l.repairable,
                    case
                        when not l.repairable then f.line is not null
                        else coalesce(p.ok, false)
                    end as caught,
                    -- A repairable row held back only because another row was bad cannot
                    -- show its repair.
                    l.repairable and coalesce(r.reject_reason in (
                        'rejected_items', 'parent_transaction_rejected', 'customer_rejected',
                        'product_rejected', 'no_items'
                    ), false) as held_by_cascade
                from ledger l
                left join flagged_rows f
                    on f.entity = l.entity and f.file = l.file and f.line = l.line
                left join repaired p on p.entity = l.entity and p.file = l.file
                    and p.line = l.line and p."column" = l."column"
                left join rows r on r.entity = l.entity and r.file = l.file and r.line = l.line
            )
            select kind, any_value(repairable),
                count(*) filter (where not held_by_cascade) as scorable,
                count(*) filter (where caught and not held_by_cascade) as caught,
                count(*) filter (where held_by_cascade) as held_by_cascade
            from judged group by kind order by kind
            """
        ).fetchall()
        precision_rows = con.execute(
            """
            with defective as (
                select distinct entity, file, line from ledger where not repairable
            )
            select f.kind, count(*) as flagged, count(d.line) as confirmed
            from flagged f
            left join defective d on d.entity = f.entity and d.file = f.file and d.line = f.line
            group by f.kind order by f.kind
            """
        ).fetchall()
        unexplained = con.execute(
            "with listed as (select distinct entity, file, line from ledger) "
            "select count(*) from flagged f left join listed l on l.entity = f.entity "
            "and l.file = f.file and l.line = f.line "
            "where f.kind <> 'cascade' and l.line is null"
        ).fetchall()[0][0]
    finally:
        con.close()
    precision = {kind: (flagged, confirmed) for kind, flagged, confirmed in precision_rows}
    kinds = {}
    for kind, repairable, scorable, caught, held in outcome:
        flagged, confirmed = precision.get(kind, (0, 0))
        kinds[kind] = {
            "repairable": bool(repairable),
            "ledger_entries": int(scorable) + int(held),
            "scorable": int(scorable),
            "caught": int(caught),
            "recall": round(caught / scorable, 4) if scorable else None,
            "flagged": None if repairable else int(flagged),
            "precision": None if repairable or not flagged else round(confirmed / flagged, 4),
            "held_by_cascade": int(held),
        }
    cascade = precision.get("cascade", (0, 0))[0]
    return {
        "ledger_file": str(ledger_path),
        "kinds": kinds,
        "cascaded_rows": int(cascade),
        "flagged_rows_not_in_ledger": int(unexplained),
        "rules": (
            "recall: quarantinable entries caught when their (file, line) row is quarantined "
            "(or removed as a duplicate for duplicate_row); repairable entries caught when the "
            "row is promoted with the repaired value. precision: rows quarantined under the "
            "reason mapped to the kind that the ledger lists as defective. Cascaded rows (an "
            "order and its items held back together) are counted apart."
        ),
    }
