"""Load the four raw files of a batch into `staging.<entity>` (text columns plus lineage).

Bad records never stop a load: the engine quarantines what it cannot parse (reason,
raw text, line). Only a file that cannot be read at all stops the step, with one line
naming the file and the problem.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cartwheel import progress
from cartwheel.contract import ENTITIES, OPTIONAL_COLUMNS, RAW_COLUMNS
from cartwheel.csv_layout import inspect_csv
from cartwheel.engines import Engine
from cartwheel.errors import SourceError
from cartwheel.ingest.quarantine_table import ensure_quarantine
from cartwheel.vocabulary import VocabularySettings, write_vocabulary


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
    rows_rejected: int = 0
    warnings: list[str] = field(default_factory=list)


def find_raw_files(folder: Path) -> dict[str, Path]:
    """The raw file of each entity in `folder` (`.csv` or `.parquet`)."""
    if not folder.is_dir():
        what = "a file, not a folder" if folder.exists() else "input folder not found"
        raise InputError(f"{folder}: {what}")
    found: dict[str, Path] = {}
    missing = []
    for entity in ENTITIES:
        candidates = [folder / f"{entity}.{ext}" for ext in ("parquet", "csv")]
        existing = [p for p in candidates if p.exists()]
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


def header_warnings(path: Path, entity: str) -> list[str]:
    """Missing and unexpected columns of a CSV header (the load itself tolerates both)."""
    if path.suffix == ".parquet":
        return []
    layout = inspect_csv(path)
    if layout.empty:
        return [f"{path.name}: empty file, no rows"]
    columns = RAW_COLUMNS[entity]
    notes = []
    optional = OPTIONAL_COLUMNS.get(entity, ())
    missing = [c for c, at in layout.positions(columns).items() if at is None and c not in optional]
    if missing:
        notes.append(f"{path.name}: missing column(s) {', '.join(missing)} loaded as empty")
    extra = layout.extra_columns(columns)
    if extra:
        notes.append(f"{path.name}: unexpected column(s) {', '.join(extra)} ignored")
    if layout.encoding != "utf-8":
        notes.append(f"{path.name}: read as {layout.encoding}")
    return notes


def rejected_at_ingest(engine: Engine, batch_id: str) -> dict[str, int]:
    """Records of the batch the reader rejected, per entity (one query for the batch)."""
    rows = engine.query(
        "select entity, count(*) from ops.quarantine "
        "where batch_id = ? and stage = 'ingest' group by entity",
        [batch_id],
    )
    return {entity: int(count) for entity, count in rows}


def load_entity(engine: Engine, entity: str, path: Path, batch_id: str) -> TableLoad:
    """Load one raw file; a file that cannot be read raises InputError (one line). Its
    rejected records are noted afterwards (`note_rejects`)."""
    began = time.perf_counter()
    try:
        notes = header_warnings(path, entity)
        rows = engine.load_staging(entity, RAW_COLUMNS[entity], path, batch_id)
    except SourceError as error:
        raise InputError(str(error)) from error
    return TableLoad(
        entity,
        rows,
        "success" if not notes else "warning",
        "; ".join(notes) or None,
        time.perf_counter() - began,
        str(path),
        warnings=notes,
    )


def note_rejects(load: TableLoad, rejected: int) -> None:
    """Add the file's rejected records to its load: a count and a warning."""
    if not rejected:
        return
    load.rows_rejected = rejected
    load.warnings.append(f"{Path(load.source).name}: {rejected} unparseable record(s) quarantined")
    load.status, load.error_message = "warning", "; ".join(load.warnings)


#: Parquet is compressed: at scale factor 1 a Parquet file holds the rows of three times
#: its size in CSV (0.61 MB against 1.83 MB).
PARQUET_TO_CSV_BYTES = 3


def csv_equivalent_bytes(files: Iterable[Path]) -> int:
    """The size of the files as CSV would be: a Parquet file counts three times."""
    return sum(
        path.stat().st_size * (PARQUET_TO_CSV_BYTES if path.suffix == ".parquet" else 1)
        for path in files
    )


def ingest(
    engine: Engine,
    folder: Path,
    batch_id: str,
    run_id: str | None = None,
    vocabulary: VocabularySettings | None = None,
    tables_ready: bool = False,
) -> list[TableLoad]:
    """Load every entity of one batch; reloading the same batch replaces it. The
    configured vocabulary (canonical spellings, bands) is written for the later steps.
    `tables_ready`: an earlier batch of this run created the schemas and ops.quarantine
    and wrote the vocabulary (16 statements skipped)."""
    files = find_raw_files(folder)
    engine.fit_threads(csv_equivalent_bytes(files.values()))
    if not tables_ready:
        engine.create_schemas()
        ensure_quarantine(engine)
        write_vocabulary(engine, vocabulary or VocabularySettings())
    loads = []
    for entity, following in zip(ENTITIES, [*ENTITIES[1:], None], strict=True):
        if following is not None:
            engine.prepare_staging(following, RAW_COLUMNS[following], files[following], batch_id)
        load = load_entity(engine, entity, files[entity], batch_id)
        progress.report("ingest", entity, load.rows_loaded, load.seconds)
        loads.append(load)
    rejected = rejected_at_ingest(engine, batch_id)
    for load in loads:
        note_rejects(load, rejected.get(load.table, 0))
    if run_id is not None:
        engine.execute(
            "update ops.quarantine set run_id = ? "
            "where stage = 'ingest' and batch_id = ? and run_id is null",
            [run_id, batch_id],
        )
    record_run_batches(engine, [batch_id])
    return loads
