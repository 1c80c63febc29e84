"""Daily batches: find them under an input folder, order them by date, remember which
ones were processed (`ops.processed_batches`) so a re-run processes only new ones.

Two layouts are accepted:

- one batch: the four raw files directly in the folder (batch id = folder name). Such a
  snapshot has no date of its own; its business date is the last date in its data, and
  it is processed again on every run (the merge is idempotent, so nothing changes).
- daily batches: sub-folders named `YYYY-MM-DD`, each holding the four raw files, as
  `cartwheel generate --days` writes them. Each is processed once, oldest first; one
  that arrives later with an older date (a late batch) is processed on the next run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cartwheel.contract import ENTITIES
from cartwheel.engines import Engine
from cartwheel.ingest.raw_files import InputError, find_raw_files
from cartwheel.sqlfiles import table_ddl

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A name meant as a date (2024-1-3, 2024_01_03, 20240103, 2024-02-30): never skipped
# silently — a folder like that, or any folder holding raw files, must be a valid day.
_DATE_LIKE = re.compile(r"^\d{4}[-_.]?\d{1,2}[-_.]?\d{1,2}$")


@dataclass(frozen=True)
class Batch:
    batch_id: str
    folder: Path
    business_date: date | None  # None: a snapshot folder, dated by its data

    @property
    def is_daily(self) -> bool:
        return self.business_date is not None


def _has_raw_files(folder: Path) -> bool:
    return any(
        (folder / f"{entity}.{ext}").exists() for entity in ENTITIES for ext in ("csv", "parquet")
    )


def _day(name: str) -> date | None:
    if not _DAY.match(name):
        return None
    try:
        return date.fromisoformat(name)
    except ValueError:
        return None


def discover_batches(input_dir: Path) -> list[Batch]:
    """The batches under `input_dir`, oldest first; a clear InputError if there are none."""
    if not input_dir.is_dir():
        what = "a file, not a folder" if input_dir.exists() else "input folder not found"
        raise InputError(f"{input_dir}: {what}")
    if _has_raw_files(input_dir):
        find_raw_files(input_dir)  # all four present, or a message naming the missing ones
        return [Batch(input_dir.name, input_dir, None)]
    folders = [child for child in input_dir.iterdir() if child.is_dir()]
    days = sorted((day, child) for child in folders if (day := _day(child.name)) is not None)
    misnamed = sorted(
        f"{child.name}/"
        for child in folders
        if _day(child.name) is None and (_DATE_LIKE.match(child.name) or _has_raw_files(child))
    )
    if misnamed:
        raise InputError(
            f"{input_dir}: batch folder(s) not named as a valid day YYYY-MM-DD: "
            f"{', '.join(misnamed)} (rename them; nothing was loaded)"
        )
    if not days:
        missing = ", ".join(f"{entity}.csv" for entity in ENTITIES)
        raise InputError(
            f"{input_dir}: missing raw file(s): {missing} (and no daily batch folders YYYY-MM-DD)"
        )
    for _, folder in days:
        find_raw_files(folder)
    return [Batch(folder.name, folder, day) for day, folder in days]


def create_batch_table(engine: Engine) -> None:
    engine.create_schemas()
    engine.execute(table_ddl("ops/ddl.sql", "ops.processed_batches"))


def processed_ids(engine: Engine) -> set[str]:
    """Batch ids whose load finished (production and warehouse)."""
    create_batch_table(engine)
    rows = engine.query("select batch_id from ops.processed_batches where processed_at is not null")
    return {row[0] for row in rows}


def last_processed_date(engine: Engine) -> date | None:
    """The latest business date of a batch whose load finished (None: no batch yet)."""
    create_batch_table(engine)
    return engine.scalar(
        "select max(business_date) from ops.processed_batches where processed_at is not null"
    )


def pending_batches(engine: Engine, input_dir: Path) -> list[Batch]:
    """Batches still to process, in date order: daily batches not processed yet, and a
    snapshot folder always (re-merging it is idempotent)."""
    done = processed_ids(engine)
    return [b for b in discover_batches(input_dir) if not b.is_daily or b.batch_id not in done]


def register_batch(
    engine: Engine, batch: Batch, run_id: str | None = None, tables_ready: bool = False
) -> None:
    """Record that `batch` is being processed (its date, where it came from).
    `tables_ready`: an earlier batch of this run created ops.processed_batches."""
    if not tables_ready:
        create_batch_table(engine)
    engine.execute("delete from ops.processed_batches where batch_id = ?", [batch.batch_id])
    engine.execute(
        "insert into ops.processed_batches "
        "(batch_id, business_date, source_folder, registered_at, processed_at, run_id) "
        "values (?, ?, ?, current_timestamp, null, ?)",
        [batch.batch_id, batch.business_date, str(batch.folder), run_id],
    )


def mark_processed(engine: Engine, batch_id: str) -> None:
    """The batch reached the warehouse; later runs skip it."""
    engine.execute(
        "update ops.processed_batches set processed_at = current_timestamp where batch_id = ?",
        [batch_id],
    )


def business_date(engine: Engine, tables_ready: bool = False) -> date:
    """The business date of the batch this run processes (the one in `ops.run_batches`).

    A daily batch is dated by its folder. A snapshot is dated by the last date in its
    valid data (or today, if it holds no dates); the date is stored once resolved.
    `tables_ready`: an earlier step of this run created ops.processed_batches.
    """
    if not tables_ready:
        create_batch_table(engine)
    rows = engine.query(
        "select max(business_date) from ops.processed_batches "
        "where batch_id in (select batch_id from ops.run_batches)"
    )
    if rows and rows[0][0] is not None:
        return rows[0][0]
    resolved = engine.scalar(
        """select coalesce(
            (select max(transaction_date) from staging.transactions_validated
             where reject_reason is null),
            (select max(registration_date) from staging.customers_validated
             where reject_reason is null),
            current_date)"""
    )
    engine.execute(
        "update ops.processed_batches set business_date = ? "
        "where batch_id in (select batch_id from ops.run_batches)",
        [resolved],
    )
    return resolved
