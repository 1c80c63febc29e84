"""Load the four raw files of a batch into `staging.<entity>` (text columns plus lineage)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from cartwheel.contract import ENTITIES, RAW_COLUMNS
from cartwheel.engines import Engine


class InputError(Exception):
    """The input cannot be used; the message says which file and why."""


@dataclass
class TableLoad:
    table: str
    rows_loaded: int
    status: str
    error_message: str | None
    seconds: float
    source: str


def find_raw_files(folder: Path) -> dict[str, Path]:
    """The raw file of each entity in `folder` (`.csv` or `.parquet`)."""
    if not folder.is_dir():
        raise InputError(f"{folder}: input folder not found")
    found: dict[str, Path] = {}
    missing = []
    for entity in ENTITIES:
        candidates = [folder / f"{entity}.{ext}" for ext in ("parquet", "csv")]
        existing = [p for p in candidates if p.is_file()]
        if existing:
            found[entity] = existing[0]
        else:
            missing.append(f"{entity}.csv")
    if missing:
        raise InputError(f"{folder}: missing raw file(s): {', '.join(missing)}")
    return found


def record_run_batches(engine: Engine, batch_ids: list[str]) -> None:
    """Tell the validation models which staged batches this run processes."""
    engine.execute("drop table if exists ops.run_batches")
    engine.execute("create table ops.run_batches (batch_id varchar not null)")
    for batch_id in batch_ids:
        engine.execute("insert into ops.run_batches values (?)", [batch_id])


def ingest(engine: Engine, folder: Path, batch_id: str) -> list[TableLoad]:
    """Load every entity of one batch; reloading the same batch replaces it."""
    files = find_raw_files(folder)
    engine.create_schemas()
    loads = []
    for entity in ENTITIES:
        began = time.perf_counter()
        rows = engine.load_staging(entity, RAW_COLUMNS[entity], files[entity], batch_id)
        loads.append(
            TableLoad(
                entity, rows, "success", None, time.perf_counter() - began, str(files[entity])
            )
        )
    record_run_batches(engine, [batch_id])
    return loads
