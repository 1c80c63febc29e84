"""Type, cleanse and check every staged row (the `*_validated` staging models)."""

from __future__ import annotations

from cartwheel.engines import Engine
from cartwheel.ingest.quarantine_table import ensure_quarantine
from cartwheel.models import build_layer
from cartwheel.production.merge import create_production_tables


def validate(engine: Engine, tables_ready: bool = False) -> dict[str, int]:
    """Build the validated staging tables; returns rows per table.

    Rows are checked against production too (a transaction may reference a customer
    loaded by an earlier run), so the production tables must exist first; rows held in
    quarantine by earlier runs are examined again, so ops.quarantine must exist too.
    `tables_ready`: an earlier batch of this run created them (the DDL is skipped).
    """
    if not tables_ready:
        engine.create_schemas()
        create_production_tables(engine)
        ensure_quarantine(engine)
    with engine.transaction():
        return build_layer(engine, "staging", step="quality")
