"""Engines as plug-ins: the registry of engine names, and opening the one settings name.

Each engine is a subclass of `Engine` in a module of its own, imported on first use (its
driver may be an optional extra). Adding an engine = its module + one `ENGINES` entry.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cartwheel.engines.base import Capabilities, Engine

if TYPE_CHECKING:
    from cartwheel.config import Settings


@dataclass(frozen=True)
class EngineEntry:
    """Where an engine's class lives, its driver, and what settings must give it."""

    module: str
    class_name: str
    driver: str
    needs_database_url: bool
    #: The driver's package as users know it, and the extra that installs it (None:
    #: installed with cartwheel).
    package: str = ""
    extra: str | None = None

    def engine_class(self) -> type[Engine]:
        return getattr(importlib.import_module(self.module), self.class_name)

    def loaded_class(self) -> type[Engine] | None:
        """The class if its driver was imported already (no driver is imported here)."""
        return self.engine_class() if self.driver in sys.modules else None


ENGINES: dict[str, EngineEntry] = {
    "duckdb": EngineEntry(
        "cartwheel.engines.duckdb", "DuckDBEngine", driver="duckdb", needs_database_url=False
    ),
    "postgres": EngineEntry(
        "cartwheel.engines.postgres",
        "PostgresEngine",
        driver="psycopg",
        needs_database_url=True,
        package="psycopg",
        extra="postgres",
    ),
    "spark": EngineEntry(
        "cartwheel.engines.spark",
        "SparkEngine",
        driver="pyspark",
        needs_database_url=False,
        package="PySpark",
        extra="spark",
    ),
}


def missing_driver(name: str) -> str | None:
    """How to install an engine's driver when it is not installed; None when it is."""
    entry = ENGINES[name]
    if entry.extra is None or importlib.util.find_spec(entry.driver) is not None:
        return None
    return f"engine '{name}' needs {entry.package}: pip install 'cartwheel[{entry.extra}]'"


def engine_class(settings: Settings) -> type[Engine]:
    return ENGINES[settings.engine].engine_class()


def connect(settings: Settings) -> Engine:
    """Open the engine the settings name."""
    return engine_class(settings).open(settings)


def connect_for_run(settings: Settings) -> Engine:
    """Open the engine for a run whose changes readers see only after `Engine.publish()`."""
    return engine_class(settings).open_for_run(settings)


def connect_reader(settings: Settings) -> Engine:
    """Open the published database for reading only (status, monitor, dashboard).

    Raises FileNotFoundError when nothing has been published yet.
    """
    return engine_class(settings).open_reader(settings)


def recover_publish(settings: Settings) -> None:
    """Finish a publish that a killed run had begun (called with the run lock held)."""
    engine_class(settings).recover_publish(settings)


def location(settings: Settings) -> str:
    """Where the configured database lives, safe to print."""
    return engine_class(settings).location(settings)


def is_transient_driver_error(error: BaseException) -> bool:
    """Whether a driver exception is one its engine declares transient."""
    for entry in ENGINES.values():
        engine = entry.loaded_class()
        if engine is not None and engine.is_transient_error(error):
            return True
    return False


__all__ = [
    "ENGINES",
    "Capabilities",
    "Engine",
    "connect",
    "connect_for_run",
    "connect_reader",
    "engine_class",
    "is_transient_driver_error",
    "location",
    "missing_driver",
    "recover_publish",
]
