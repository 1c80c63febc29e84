"""Build the warehouse layer from production."""

from __future__ import annotations

from cartwheel.engines import Engine
from cartwheel.models import build_layer


def build_warehouse(engine: Engine) -> dict[str, int]:
    """Build every warehouse table in dependency order; returns rows per table."""
    engine.create_schemas()
    with engine.transaction():
        return build_layer(engine, "warehouse")
