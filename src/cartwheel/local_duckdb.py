"""One in-memory DuckDB database per process for work outside the engine: formatting the
generator's files and writing the analytics CSVs, whichever engine runs the pipeline.

Starting a DuckDB database costs 30-45 ms of CPU on this project's machine (its catalog,
buffer manager and thread pool), a connection to one that is running about 1 ms: the
users share the database and each takes its own connection, so a run starts one."""

from __future__ import annotations

from functools import cache

import duckdb


@cache
def _database() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def local_connection() -> duckdb.DuckDBPyConnection:
    """A new connection to the process's in-memory database (its own registered tables and
    settings' session); close it when done."""
    return _database().cursor()
