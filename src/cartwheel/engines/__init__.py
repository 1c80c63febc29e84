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
    if settings.engine == "spark":
        return _spark().open(settings)
    raise NotImplementedError(f"engine {settings.engine!r} is not available yet")


def connect_for_run(settings: Settings) -> Engine:
    """Open the engine for a run whose changes readers see only after `Engine.publish()`.

    DuckDB copies its published file to a private next file; readers holding the
    published file are neither blocked nor shown a half-built warehouse.
    """
    if settings.engine == "duckdb":
        from cartwheel.engines.duckdb import DuckDBEngine

        return DuckDBEngine.for_run(settings.duckdb_path)
    if settings.engine == "spark":
        return _spark().for_run(settings)
    return connect(settings)


def connect_reader(settings: Settings) -> Engine:
    """Open the published database for reading only (status, monitor, dashboard).

    Raises FileNotFoundError when DuckDB has nothing published yet.
    """
    if settings.engine == "duckdb":
        from cartwheel.engines.duckdb import DuckDBEngine

        if not settings.duckdb_path.exists():
            raise FileNotFoundError(f"{settings.duckdb_path}: no warehouse yet (run cartwheel run)")
        return DuckDBEngine(str(settings.duckdb_path), read_only=True)
    if settings.engine == "spark":
        return _spark().reader(settings)
    return connect(settings)


def recover_publish(settings: Settings) -> None:
    """Finish a publish that a killed run had begun (called with the run lock held)."""
    if settings.engine == "duckdb":
        from cartwheel.engines.duckdb import finish_publish

        finish_publish(settings.duckdb_path)
    if settings.engine == "spark":
        from cartwheel.engines.spark import recover_publish as finish_spark_publish

        finish_spark_publish(settings)


def _spark() -> type[Engine]:
    """The Spark engine class; without PySpark an ImportError says how to install it."""
    import importlib.util

    from cartwheel.engines.spark import INSTALL_HINT, SparkEngine

    if importlib.util.find_spec("pyspark") is None:
        raise ImportError(INSTALL_HINT)
    return SparkEngine


__all__ = ["Engine", "connect", "connect_for_run", "connect_reader", "recover_publish"]
