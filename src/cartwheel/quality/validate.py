"""Type, cleanse and check every staged row (the `*_validated` staging models)."""

from __future__ import annotations

from cartwheel.engines import Engine
from cartwheel.models import build_layer


def validate(engine: Engine) -> dict[str, int]:
    """Build the validated staging tables; returns rows per table."""
    with engine.transaction():
        return build_layer(engine, "staging")
