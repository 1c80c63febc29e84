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

# Is the promoted value of a repaired column in canonical form?
REPAIRED_SQL = """
case
    when l.kind = 'padded_text' then v.value = trim(v.value)
    when l.kind = 'phone_punctuation' then regexp_full_match(v.value, '[0-9]+')
    when l.kind = 'miscased_text' and l."column" in ('first_name', 'last_name')
        then v.value = upper(v.value[1]) || lower(v.value[2:])
    when l.kind = 'miscased_text' and l."column" = 'email' then v.value = lower(v.value)
    when l.kind = 'miscased_text' and l."column" = 'category' then v.value in (
        'Electronics', 'Clothing', 'Home & Kitchen', 'Books', 'Sports', 'Beauty')
    when l.kind = 'miscased_text' and l."column" = 'payment_method' then v.value in (
        'Credit Card', 'Debit Card', 'UPI', 'Cash on Delivery', 'Net Banking')
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


def _values_sql(con: duckdb.DuckDBPyConnection) -> str:
    """One row per (row, column) of the validated rows: its value as text."""
    parts = []
    skip = {
        "batch_id",
        "source_file",
        "source_line",
        "loaded_at",
        "reject_reason",
        "disposition",
        "raw_line_total",
    }
    for entity in ENTITIES:
        columns = [c for c in con.table(entity).columns if c not in skip | {"version_rank"}]
        consistent = {
            "transaction_items": "abs(coalesce(line_total, 0) - round(quantity * unit_price "
            "* (100 - discount_percentage) * 0.01, 2)) <= 0.001",
            "transactions": "transaction_id in (select transaction_id from transaction_items "
            "where disposition = 'promoted')",
        }.get(entity, "false")
        for column in columns:
            parts.append(
                f"select '{entity}' as entity, parse_filename(source_file) as file, "
                f"source_line as line, disposition, reject_reason, version_rank, "
                f"'{column.removeprefix('raw_')}' as column_name, "
                f'cast("{column}" as varchar) as value, '
                f"{consistent} as consistent from {entity}"
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
        outcome = con.execute(
            f"""
            with rows as (
                select distinct entity, file, line, disposition, reject_reason
                from cell
            ),
            judged as (
                select
                    l.kind,
                    l.repairable,
                    case
                        when not l.repairable then exists (
                            select 1 from flagged f
                            where f.entity = l.entity and f.file = l.file and f.line = l.line
                        )
                        else coalesce((
                            select bool_and({REPAIRED_SQL}) from cell v
                            where v.entity = l.entity and v.file = l.file and v.line = l.line
                                and v.column_name = l."column" and v.disposition = 'promoted'
                        ), false)
                    end as caught,
                    -- A repairable row held back only because its order was rejected for
                    -- another row's defect cannot show its repair.
                    l.repairable and exists (
                        select 1 from rows r
                        where r.entity = l.entity and r.file = l.file and r.line = l.line
                            and r.reject_reason in ('rejected_items', 'parent_transaction_rejected',
                                'customer_rejected', 'product_rejected', 'no_items')
                    ) as held_by_cascade
                from ledger l
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
            select f.kind, count(*) as flagged,
                count(*) filter (where exists (
                    select 1 from ledger l where l.entity = f.entity and l.file = f.file
                    and l.line = f.line and not l.repairable
                )) as confirmed
            from flagged f group by f.kind order by f.kind
            """
        ).fetchall()
        unexplained = con.execute(
            "select count(*) from flagged f where f.kind not in ('cascade') and not exists ("
            "select 1 from ledger l where l.entity = f.entity and l.file = f.file "
            "and l.line = f.line)"
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
