"""The `ops.quarantine` table, created by the first step that can reject a row (ingest);
what goes into it and why is `cartwheel.quality.quarantine`."""

from __future__ import annotations

from cartwheel.engines import Engine
from cartwheel.sqlfiles import table_ddl


def ensure_quarantine(engine: Engine) -> None:
    """Create `ops.quarantine` if it does not exist yet."""
    engine.execute("create schema if not exists ops")
    engine.execute(table_ddl("ops/ddl.sql", "ops.quarantine"))
