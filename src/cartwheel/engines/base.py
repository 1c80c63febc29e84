"""The engine interface. Shared models are written in DuckDB's dialect of portable SQL;
each engine translates them and owns the few statements that cannot be shared."""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

SCHEMAS = ("staging", "production", "warehouse", "ops")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def check_identifier(name: str) -> str:
    """Identifiers reach SQL only after this check (they come from files and config)."""
    for part in name.split("."):
        if not _IDENTIFIER.match(part):
            raise ValueError(f"not a safe SQL identifier: {name!r}")
    return name


def fsync_path(path: Path) -> None:
    """Flush a file, or a folder's entries (after a rename), to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def string_literal(value: object) -> str:
    """A SQL string literal for statements that take no parameters (COPY ... TO 'path')."""
    return "'" + str(value).replace("'", "''") + "'"


class WriterBusy(Exception):
    """Another cartwheel run writes to the same database (from another data folder)."""


class SourceError(Exception):
    """A raw file cannot be read at all; the one-line message names the file and why."""


class Engine(ABC):
    """What the pipeline needs from a database."""

    name: str = "engine"
    dialect: str = "duckdb"
    #: Whether production keys and references are declared constraints (added after the
    #: first bulk load); if not, they are proven set-based after every merge.
    declares_keys: bool = False

    def translate(self, sql: str) -> str:
        """Model SQL (DuckDB dialect) in this engine's dialect."""
        return sql

    @abstractmethod
    def execute(self, sql: str, params: Sequence[object] | None = None) -> None:
        """Run one statement, discarding any result."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[object] | None = None) -> list[tuple]:
        """Run one statement and return all rows."""

    @abstractmethod
    def query_arrow(self, sql: str) -> pa.Table:
        """Run one SELECT and return an Arrow table."""

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together or not at all."""

    @abstractmethod
    def load_staging(self, table: str, columns: Sequence[str], source: Path, batch_id: str) -> int:
        """Bulk-load one raw file into `staging.<table>` as text, replacing the batch.

        Contract (every engine): `columns` are the contract's columns; CSV columns are
        matched by header name (case-insensitive), a missing column loads as NULL, an
        extra one is ignored. Adds `loaded_at`, `batch_id`, `source_file` and
        `source_line` (the physical line the record starts on, header = line 1; for
        Parquet the row number + 1, as if it had a header). Never fails on a bad record:
        a record that cannot be parsed (wrong column count, broken quoting, invalid
        encoding) is not staged but inserted into `ops.quarantine` (created by the
        caller) with `stage = 'ingest'`, its raw text, lineage and a reason code,
        replacing that batch's earlier ingest rejects. An empty file loads nothing. A
        file that cannot be read at all, or whose header lacks a mandatory column
        (`contract.MANDATORY_COLUMNS`), raises `SourceError` with a one-line message
        naming the file. Returns rows staged (rejected records not included).
        """

    @abstractmethod
    def build_table(self, qualified_name: str, select_sql: str) -> int:
        """Build `schema.table` from a SELECT (next version, then swap). Returns rows."""

    @abstractmethod
    def date_spine_sql(self, start_sql: str, end_sql: str) -> str:
        """A SELECT with one `full_date` DATE column per day from start to end inclusive."""

    @abstractmethod
    def table_exists(self, qualified_name: str) -> bool:
        """Whether `schema.table` exists."""

    @abstractmethod
    def columns(self, table: str) -> list[str]:
        """Column names of a table (qualified or temporary), in order."""

    def scalar(self, sql: str, params: Sequence[object] | None = None) -> object:
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def count(self, qualified_name: str) -> int:
        check_identifier(qualified_name)
        return int(self.scalar(f"select count(*) from {qualified_name}"))

    def create_schemas(self) -> None:
        for schema in SCHEMAS:
            self.execute(f"create schema if not exists {schema}")

    def drop_all(self) -> None:
        """Forget everything cartwheel built (used by `--rebuild`)."""
        for schema in SCHEMAS:
            self.execute(f"drop schema if exists {schema} cascade")

    # A run's changes reach readers all at once (SPEC §7): seal() makes them durable and
    # closes, publish() makes them visible in one step and may be repeated after a crash
    # (see engines.recover_publish). Engines that isolate a run (DuckDB works on a private
    # copy of its file) override these; the defaults suit an engine that commits as it goes.

    def seal(self) -> None:
        """Make this run's changes durable, not yet visible, and close the connection."""
        self.close()

    def publish(self) -> None:  # noqa: B027 - an engine that commits as it goes: nothing
        """Make the sealed changes visible to readers in one step."""

    def discard(self) -> None:
        """Drop this run's unpublished changes, then close."""
        self.close()

    def claim_writer(self) -> None:  # noqa: B027 - a file database: the folder lock covers it
        """Hold the database for this run's writes; raise WriterBusy if another holds it."""

    def reconnect(self) -> None:  # noqa: B027 - default: keep the connection
        """Replace a connection that a transient failure may have broken."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""
