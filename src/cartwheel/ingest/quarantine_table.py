"""The `ops.quarantine` table, created by the first step that can reject a row (ingest);
what goes into it and why is `cartwheel.quality.quarantine`."""

from __future__ import annotations

from cartwheel.engines import Engine

# Portable DDL (DuckDB and PostgreSQL). `stage` says who rejected the row: `ingest`
# (the record could not be parsed) or `quality` (a row-level rule failed).
QUARANTINE_DDL = """
create table if not exists ops.quarantine (
    entity varchar not null,
    batch_id varchar not null,
    source_file varchar,
    source_line bigint,
    record_key varchar,
    raw_content varchar,
    reason varchar not null,
    stage varchar not null,
    run_id varchar,
    quarantined_at timestamp not null,
    released_at timestamp,
    released_run_id varchar
)
"""


def ensure_quarantine(engine: Engine) -> None:
    """Create `ops.quarantine` if it does not exist yet."""
    engine.execute("create schema if not exists ops")
    engine.execute(QUARANTINE_DDL)
