"""The engine interface. Shared models are written in DuckDB's dialect of portable SQL;
each engine translates them and owns the few statements that cannot be shared."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from cartwheel.sqltext import check_identifier

if TYPE_CHECKING:
    import pyarrow as pa

    from cartwheel.config import Settings

SCHEMAS = ("staging", "production", "warehouse", "ops")


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do. Shared code asks these, never an engine's name."""

    #: Statements inside `Engine.transaction()` commit together or not at all.
    transactions: bool
    #: Production keys and references are declared constraints (added after the first
    #: bulk load); if not, they are proven set-based after every merge.
    constraints: bool
    #: Secondary indexes pay for themselves (the warehouse keys get indexes).
    indexes: bool
    #: `create or replace table ... as` replaces a table in one statement.
    replace_table: bool
    #: A run works on a private copy that `publish()` makes visible in one step.
    private_run_copy: bool
    #: Columns declare NOT NULL (an older database's may need dropping); Parquet
    #: tables declare none.
    not_null: bool = False


class WriterBusy(Exception):
    """Another cartwheel run writes to the same database (from another data folder)."""


class Engine(ABC):
    """What the pipeline needs from a database."""

    #: The name settings use for this engine (`engine: duckdb`).
    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    #: The database holds only what this engine's own runs wrote and proved, so rules
    #: proven set-based (production integrity) need checking on the changed keys only.
    state_proven: bool = False

    # Opening ---------------------------------------------------------------------------

    @classmethod
    @abstractmethod
    def open(cls, settings: Settings) -> Engine:
        """A connection to the database the settings name."""

    @classmethod
    def open_for_run(cls, settings: Settings) -> Engine:
        """A connection for a run whose changes readers see only after `publish()`."""
        return cls.open(settings)

    @classmethod
    def open_reader(cls, settings: Settings) -> Engine:
        """The published database, for reading (status, monitor, dashboard).

        Raises FileNotFoundError when nothing has been published yet.
        """
        return cls.open(settings)

    @classmethod  # noqa: B027 - an engine without a private run copy has nothing to finish
    def recover_publish(cls, settings: Settings) -> None:
        """Finish a publish that a killed run had begun (called with the run lock held)."""

    @classmethod
    @abstractmethod
    def location(cls, settings: Settings) -> str:
        """Where the database lives, safe to print (no password)."""

    @classmethod
    @abstractmethod
    def lineage_dataset(cls, settings: Settings, table: str) -> tuple[str, str]:
        """OpenLineage's (namespace, name) of one of this engine's tables."""

    @classmethod
    @abstractmethod
    def is_transient_error(cls, error: BaseException) -> bool:
        """Whether an exception of this engine's driver may pass if tried again."""

    @property
    @abstractmethod
    def database_name(self) -> str:
        """The name a reader (a BI tool, the dashboard's metadata) knows the database by."""

    # Statements ------------------------------------------------------------------------
    # The one door for SQL: callers send every statement in the model dialect (DuckDB's
    # dialect of portable SQL, `?` parameters); the engine translates it to its own.

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

    def prepare_staging(
        self, table: str, columns: Sequence[str], source: Path, batch_id: str
    ) -> None:
        """A hint: `load_staging` with these arguments comes next, so an engine may start
        reading the file now (the default does nothing)."""
        return None

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

    def existing_tables(self, qualified_names: Sequence[str]) -> set[str]:
        """Which of these `schema.table` names exist (an engine with a catalog to query
        answers in one statement)."""
        return {name for name in qualified_names if self.table_exists(name)}

    @abstractmethod
    def columns(self, table: str) -> list[str]:
        """Column names of a table (qualified or temporary), in order."""

    def scalar(self, sql: str, params: Sequence[object] | None = None) -> object:
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def count(self, qualified_name: str) -> int:
        check_identifier(qualified_name)
        return int(self.scalar(f"select count(*) from {qualified_name}"))

    def counts(self, qualified_names: Sequence[str]) -> dict[str, int]:
        """The rows of several tables, in one statement."""
        parts = ", ".join(
            f"(select count(*) from {check_identifier(name)})" for name in qualified_names
        )
        (row,) = self.query(f"select {parts}")
        return {name: int(rows) for name, rows in zip(qualified_names, row, strict=True)}

    def declare_production_keys(self) -> None:
        """Declare production's keys and references that are still missing (engines with
        `capabilities.constraints` only)."""
        raise NotImplementedError(f"engine {self.name} declares no constraints")

    def drop_not_null(self, table: str, columns: Sequence[str]) -> None:
        """Make these columns of `schema.table` optional (engines with
        `capabilities.not_null`)."""
        check_identifier(table)
        for column in columns:
            check_identifier(column)
            self.execute(f"alter table {table} alter column {column} drop not null")

    def create_schemas(self) -> None:
        for schema in SCHEMAS:
            self.execute(f"create schema if not exists {schema}")

    def drop_all(self) -> None:
        """Forget everything cartwheel built (used by `--rebuild`)."""
        for schema in SCHEMAS:
            self.execute(f"drop schema if exists {schema} cascade")

    # A run's changes reach readers all at once: seal() makes them durable and
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

    def fit_threads(self, input_bytes: int) -> None:  # noqa: B027 - default: the engine's own
        """Size the parallelism to a batch of `input_bytes` (CSV bytes; see
        raw_files.csv_equivalent_bytes) and the data already held."""

    def claim_writer(self) -> None:  # noqa: B027 - a file database: the folder lock covers it
        """Hold the database for this run's writes; raise WriterBusy if another holds it."""

    def reconnect(self) -> None:  # noqa: B027 - default: keep the connection
        """Replace a connection that a transient failure may have broken."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""
