"""Engines: the one small interface behind which every engine-specific statement lives."""

from __future__ import annotations

from cartwheel.config import Settings
from cartwheel.engines.base import Engine


def connect(settings: Settings, path_override: str | None = None) -> Engine:
    """Open the engine the settings name."""
    if settings.engine == "duckdb":
        from cartwheel.engines.duckdb import DuckDBEngine

        return DuckDBEngine(path_override or str(settings.duckdb_path))
    if settings.engine == "postgres":
        from cartwheel.engines.postgres import PostgresEngine

        return PostgresEngine(settings)
    raise NotImplementedError(f"engine {settings.engine!r} is not available yet")


__all__ = ["Engine", "connect"]
