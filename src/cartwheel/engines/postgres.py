"""PostgreSQL: the same pipeline on a server that BI tools already connect to.

- Connection: `settings.database_url` (`postgresql://user@host:port/db`); the password
  comes from the URL or from libpq's `PGPASSWORD`/`~/.pgpass`, and is never logged.
- Loading: raw files are read by DuckDB in-process exactly as `DuckDBEngine.load_staging`
  reads them (same rows, same lineage, same ingest rejects), then bulk-loaded with
  `COPY ... FROM STDIN (FORMAT binary)` from DuckDB's Arrow batches — never row by row;
  the next file is read in a thread while the server loads the previous one.
- Models: the shared DuckDB-dialect SQL is translated by sqlglot plus the rewrites in
  `translation.py` (the one list of constructs that need per-engine handling).
- Steps run in transactions (`transaction()`); `build_table` builds the next version of a
  table and swaps it in within the caller's transaction, then adds the warehouse keys and
  indexes of the data contract. A lost connection raises `psycopg.OperationalError`, which the
  orchestrator retries after `reconnect()`; a constraint violation raises
  `psycopg.errors.IntegrityError`, which it does not.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import duckdb
import pgpq
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from cartwheel.config import Settings, redact, safe_dsn
from cartwheel.contract import WAREHOUSE_KEYS
from cartwheel.engines.base import Capabilities, Engine, WriterBusy
from cartwheel.engines.translation import (
    HELPER_FUNCTIONS,
    HELPERS_VERSION,
    PostgresTranslator,
    key_statements,
)
from cartwheel.sqlfiles import sql_statements
from cartwheel.sqltext import check_identifier

if TYPE_CHECKING:
    from cartwheel.engines.duckdb import DuckDBEngine

# Rows per Arrow batch that DuckDB hands to the binary COPY.
COPY_BATCH_ROWS = 65_536
# Besides the `_id` columns, what ANALYZE gathers statistics on after a staging load, and
# after building a staging model (the validated rows): what later statements join and
# filter on. Statistics on every column took 2.3-2.9x as long (about 0.2 s more for each
# of the three large validated tables at scale factor 10).
_ANALYZED = ("batch_id", "source_file", "source_line")
_ANALYZED_VALIDATED = (*_ANALYZED, "reject_reason", "disposition", "version_rank", "is_duplicate")

# Session settings: ISO dates in text output; `ops` searched last (its round(double, int)
# serves SQL typed by hand); no JIT (compiling costs seconds on queries that run in
# milliseconds); no nested loops: every model join is a bulk join, and the planner's row
# estimates for expressions (upper(trim(id)) = ...) are poor; sorts and hashes of a
# model's rows in memory rather than on disk.
SESSION_OPTIONS = (
    "-c datestyle=ISO,YMD -c intervalstyle=postgres -c search_path=public,ops "
    "-c jit=off -c enable_nestloop=off -c work_mem=128MB"
)

# Arrow types (from DuckDB's reading) → column types of the PostgreSQL staging tables.
# Text compares byte-wise (COLLATE "C") like DuckDB, whatever the server's locale.
_PG_TYPES = (
    (pa.types.is_string, 'text collate "C"'),
    (pa.types.is_large_string, 'text collate "C"'),
    (pa.types.is_int64, "bigint"),
    (pa.types.is_int32, "integer"),
    (pa.types.is_int16, "smallint"),
    (pa.types.is_float64, "double precision"),
    (pa.types.is_boolean, "boolean"),
    (pa.types.is_date32, "date"),
)

# PostgreSQL type oids → Arrow types for query_arrow (numeric is handled by its typmod).
_ARROW_TYPES = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int16(),
    23: pa.int32(),
    700: pa.float32(),
    701: pa.float64(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
}
_NUMERIC_OID = 1700


class Unreachable(psycopg.OperationalError, ConnectionError):
    """The server cannot be reached: transient for a run (retried), an OSError for the
    commands that only read (`status`, `quarantine`), which say so in one line."""


class ConfigurationError(ValueError):
    """The engine cannot be used as configured; the message says what to set."""


# The advisory lock a writing run holds on its database for as long as it is connected
# (`claim_writer`): a second run from another data folder is refused, not interleaved.
WRITER_LOCK_KEY = 0x63617274  # "cart"

_CONSTRAINT_NAME = re.compile(r"add constraint (\w+)")


def placeholders(statement: str) -> str:
    """DuckDB-style `?` parameters as psycopg's `%s` (quoted text and comments untouched)."""
    pieces = re.split(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*)", statement)
    out = []
    for index, piece in enumerate(pieces):
        piece = piece.replace("%", "%%")
        out.append(piece if index % 2 else piece.replace("?", "%s"))
    return "".join(out)


def _pg_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_decimal(arrow_type):
        return f"numeric({arrow_type.precision}, {arrow_type.scale})"
    if pa.types.is_timestamp(arrow_type):
        return "timestamptz" if arrow_type.tz else "timestamp"
    for test, name in _PG_TYPES:
        if test(arrow_type):
            return name
    return 'text collate "C"'


class PostgresEngine(Engine):
    name = "postgres"
    capabilities = Capabilities(
        transactions=True,
        constraints=True,
        indexes=True,
        replace_table=False,
        private_run_copy=False,
        not_null=True,
    )

    @classmethod
    def open(cls, settings: Settings) -> PostgresEngine:
        return cls(settings)

    @classmethod
    def location(cls, settings: Settings) -> str:
        if settings.database_url is None:
            return "postgresql (no database URL set)"
        return safe_dsn(settings.database_url.get_secret_value())

    @classmethod
    def lineage_dataset(cls, settings: Settings, table: str) -> tuple[str, str]:
        url = urlsplit(settings.database_url.get_secret_value() if settings.database_url else "")
        return f"postgres://{url.hostname}:{url.port or 5432}", f"{url.path.lstrip('/')}.{table}"

    @classmethod
    def is_transient_error(cls, error: BaseException) -> bool:
        # A lost or refused connection, a server shutting down, a lock timeout.
        return isinstance(error, psycopg.OperationalError)

    @property
    def database_name(self) -> str:
        return self.conn.info.dbname

    def __init__(self, settings: Settings) -> None:
        if settings.database_url is None:
            raise ConfigurationError(
                "engine 'postgres' needs a database URL: --database-url "
                "postgresql://user@host:port/db or CARTWHEEL_DATABASE_URL "
                "(password in the URL or in PGPASSWORD)"
            )
        self._url = settings.database_url.get_secret_value()
        self._conn: psycopg.Connection | None = None
        self._writer = False
        self._translator = PostgresTranslator(self._relation_columns)
        self._helpers_ready = False
        # The next raw file, read by DuckDB in a thread while the previous one is COPYed.
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cartwheel-stage")
        self._prepared: tuple[tuple, Future[DuckDBEngine]] | None = None
        self.connect()

    # Connection ---------------------------------------------------------------------

    def connect(self) -> None:
        """Open the connection (autocommit; `transaction()` groups statements)."""
        try:
            self._conn = psycopg.connect(
                self._url,
                autocommit=True,
                application_name="cartwheel",
                connect_timeout=10,
                options=SESSION_OPTIONS,
            )
        except psycopg.OperationalError as error:
            # Still an OperationalError (retried as transient), minus any secret.
            message = " ".join(str(error).split())  # libpq's message spans lines
            raise Unreachable(
                "cannot connect to PostgreSQL: " + redact(message, self._url)
            ) from None
        except psycopg.ProgrammingError as error:
            raise ConfigurationError(
                "invalid database URL: " + redact(str(error).strip(), self._url)
            ) from None
        self._helpers_ready = False
        if self._writer:
            self._take_writer_lock()
        self._align_time_zone()
        if self._native_scalar("select to_regnamespace('ops') is not null"):
            self._install_helpers()

    def _align_time_zone(self) -> None:
        """The session's time zone = the one DuckDB uses here, so `current_date` (future
        dates are rejected) is the same day on both engines, whatever the server's zone."""
        zone = duckdb.sql("select current_setting('TimeZone')").fetchall()[0][0]
        with suppress(psycopg.DataError):  # a zone the server does not know: keep its own
            self._native("select set_config('TimeZone', ?, false)", [zone])

    def claim_writer(self) -> None:
        """Hold the database's writer lock while connected (kept across reconnects)."""
        self._take_writer_lock()
        self._writer = True

    def _take_writer_lock(self) -> None:
        if not self._native_scalar("select pg_try_advisory_lock(?)", [WRITER_LOCK_KEY]):
            holder = self._native_scalar(
                "select coalesce(max(a.application_name || ' pid ' || a.pid), 'another session') "
                "from pg_locks l join pg_stat_activity a using (pid) "
                "where l.locktype = 'advisory' and l.objid::bigint = ? and l.granted",
                [WRITER_LOCK_KEY],
            )
            raise WriterBusy(
                f"another cartwheel run is writing to this PostgreSQL database ({holder}); "
                "one writer per database, whatever its data folder: try again later"
            )

    @property
    def conn(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self.connect()
        assert self._conn is not None
        return self._conn

    def reconnect(self) -> None:
        self.close()
        self.connect()

    def close(self) -> None:
        self._discard_prepared()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # Statements -----------------------------------------------------------------------

    # Every statement callers send is in the model dialect and is translated here; the
    # engine's own statements (catalog, locks, COPY, helper functions) are PostgreSQL
    # already and go through `_native`.

    def _translate(self, sql: str) -> str:
        return self._translator.translate(sql)

    def _cursor_execute(self, sql: str, params: Sequence[object] | None) -> psycopg.Cursor:
        """Run PostgreSQL SQL; `?` parameters become psycopg's `%s` here and only here."""
        cursor = self.conn.cursor()
        if params:
            cursor.execute(placeholders(sql), list(params))
        else:
            cursor.execute(sql)
        return cursor

    def _native(self, sql: str, params: Sequence[object] | None = None) -> list[tuple]:
        with self._cursor_execute(sql, params) as cursor:
            return cursor.fetchall() if cursor.description else []

    def _native_scalar(self, sql: str, params: Sequence[object] | None = None) -> object:
        rows = self._native(sql, params)
        return rows[0][0] if rows else None

    def execute(self, sql: str, params: Sequence[object] | None = None) -> None:
        with self._cursor_execute(self._translate(sql), params):
            pass

    def query(self, sql: str, params: Sequence[object] | None = None) -> list[tuple]:
        return self._native(self._translate(sql), params)

    def query_arrow(self, sql: str) -> pa.Table:
        """Run a SELECT and return Arrow, read in bulk from `COPY (...) TO STDOUT`."""
        body = self._translate(sql).strip().rstrip(";")
        with self.conn.cursor() as cursor:
            cursor.execute(f"select * from (\n{body}\n) as cartwheel_query limit 0")
            described = cursor.description or []
            names = [column.name for column in described]
            types: dict[str, pa.DataType] = {}
            unconstrained = []
            for index, column in enumerate(described):
                key = f"c{index}"
                if column.type_code == _NUMERIC_OID:
                    if column.precision is not None and column.scale is not None:
                        types[key] = pa.decimal128(column.precision, column.scale)
                    else:
                        unconstrained.append(key)
                        types[key] = pa.string()
                else:
                    types[key] = _ARROW_TYPES.get(column.type_code, pa.string())
            buffer = io.BytesIO()
            with cursor.copy(f"copy (\n{body}\n) to stdout (format csv)") as copy:
                for block in copy:
                    buffer.write(block)
        keys = list(types)
        if buffer.tell() == 0:
            table = pa.table({k: pa.array([], type=types[k]) for k in keys})
        else:
            buffer.seek(0)
            table = pa_csv.read_csv(
                buffer,
                read_options=pa_csv.ReadOptions(column_names=keys),
                convert_options=pa_csv.ConvertOptions(
                    column_types=types,
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=False,
                    true_values=["t"],
                    false_values=["f"],
                ),
            )
        columns = [_exact_decimal(table[k]) if k in unconstrained else table[k] for k in keys]
        return pa.table(columns, names=names) if columns else pa.table({})

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # Nested use becomes a savepoint: a step's statements commit together.
        with self.conn.transaction():
            yield

    # Loading --------------------------------------------------------------------------

    def prepare_staging(
        self, table: str, columns: Sequence[str], source: Path, batch_id: str
    ) -> None:
        """Start reading the file `load_staging` gets next, in a thread: DuckDB stages
        entity k+1 on one core while the server COPYs entity k on the other."""
        self._discard_prepared()
        key = (table, tuple(columns), source, batch_id)
        self._prepared = (key, self._reader.submit(_stage_in_duckdb, *key))

    def load_staging(self, table: str, columns: Sequence[str], source: Path, batch_id: str) -> int:
        """Read with DuckDB (identical staging rows and ingest rejects), COPY in bulk."""
        key = (table, tuple(columns), source, batch_id)
        if self._prepared is not None and self._prepared[0] == key:
            scratch = self._prepared[1].result()  # a SourceError of the reading is raised here
            self._prepared = None
        else:  # not the prepared file (which may be the one after it): read it now
            scratch = _stage_in_duckdb(*key)
        try:
            return self._copy_staged(scratch, table, source, batch_id)
        finally:
            scratch.close()

    def _discard_prepared(self) -> None:
        if self._prepared is not None:
            future = self._prepared[1]
            self._prepared = None
            with suppress(Exception):  # a file nobody asks for: its reading error is moot
                future.result().close()

    def _copy_staged(self, scratch: DuckDBEngine, table: str, source: Path, batch_id: str) -> int:
        """The staged rows and ingest rejects of one file, from DuckDB into PostgreSQL in
        one transaction: binary COPY straight from DuckDB's Arrow batches (no text round
        trip: the rows are computed as the server takes them, never stored in DuckDB),
        then statistics on the columns the validation models join on."""
        from cartwheel.engines.duckdb_staging import INGEST_REJECTS, STAGED_ROWS, read_errors

        target = f"staging.{check_identifier(table)}"
        # PostgreSQL text cannot hold a NUL byte: a quarantined line shows it as U+FFFD,
        # the character for one that cannot be represented.
        rejects = scratch.con.sql(
            "select * replace (replace(record_key, chr(0), chr(65533)) as record_key, "
            f"replace(raw_content, chr(0), chr(65533)) as raw_content) from {INGEST_REJECTS}"
        ).to_arrow_table()
        staged = scratch.con.sql(f"select * from {STAGED_ROWS}").to_arrow_reader(COPY_BATCH_ROWS)
        with self.transaction():
            # Safe without waiting for the disk: the ingest step ends with synchronous
            # commits, which make every earlier commit durable (the WAL is sequential);
            # a server crash before them fails the step, and a retry loads the batch again.
            self._native("set local synchronous_commit = off")
            self._ensure_table(target, staged.schema)
            self._native(f"delete from {target} where batch_id = ?", [batch_id])
            with read_errors(source):
                rows = self.copy_binary(target, staged)
            if self.table_exists("ops.quarantine"):
                self._native(
                    "delete from ops.quarantine "
                    "where entity = ? and stage = 'ingest' and batch_id = ?",
                    [table, batch_id],
                )
                self.copy_arrow("ops.quarantine", rejects.to_reader())
            # Fresh statistics for what the validation models join and filter on right
            # away: the keys and the lineage (all columns took 1.8x as long).
            keys = [n for n in staged.schema.names if n in _ANALYZED or n.endswith("_id")]
            self._native(f"analyze {target} ({', '.join(keys)})")
        return rows

    def copy_binary(self, target: str, batches: pa.RecordBatchReader) -> int:
        """COPY Arrow batches in PostgreSQL's binary format (columns matched by name; each
        column's type must be the table's: text, bigint, timestamptz...)."""
        check_identifier(target)
        names = [check_identifier(name) for name in batches.schema.names]
        encoder = pgpq.ArrowToPostgresBinaryEncoder(batches.schema)
        rows = 0
        statement = f"copy {target} ({', '.join(names)}) from stdin (format binary)"
        with self.conn.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(encoder.write_header())
            for batch in batches:
                copy.write(encoder.write_batch(batch))
                rows += batch.num_rows
            copy.write(encoder.finish())
        return rows

    def copy_arrow(self, target: str, batches: pa.RecordBatchReader) -> int:
        """COPY Arrow batches into an existing table (columns matched by name)."""
        check_identifier(target)
        names = [check_identifier(name) for name in batches.schema.names]
        statement = f"copy {target} ({', '.join(names)}) from stdin (format csv)"
        options = pa_csv.WriteOptions(include_header=False)
        rows = 0
        with self.conn.cursor() as cursor, cursor.copy(statement) as copy:
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                buffer = io.BytesIO()
                pa_csv.write_csv(batch, buffer, options)
                copy.write(buffer.getbuffer())
                rows += batch.num_rows
        return rows

    def _ensure_table(self, target: str, schema: pa.Schema) -> None:
        """Create the staging table from the reader's columns, or add new ones."""
        definitions = [f"{check_identifier(f.name)} {_pg_type(f.type)}" for f in schema]
        if not self.table_exists(target):
            self._native(f"create table {target} ({', '.join(definitions)})")
            return
        existing = set(self.columns(target))
        for field, definition in zip(schema, definitions, strict=True):
            if field.name not in existing:
                self._native(f"alter table {target} add column {definition}")

    # Tables ---------------------------------------------------------------------------

    def build_table(self, qualified_name: str, select_sql: str) -> int:
        """Next version beside the old one, swap, then keys and indexes — one transaction."""
        schema, table = check_identifier(qualified_name).split(".")
        following = f"{schema}.{table}__next"
        with self.transaction():
            self._native(f"drop table if exists {following}")
            create = f"create table {following} as {self._translate(select_sql)}"
            with self._cursor_execute(create, None) as cursor:
                rows = cursor.rowcount
            self._native(f"drop table if exists {qualified_name}")
            self._native(f"alter table {following} rename to {table}")
            self._add_keys(qualified_name)
            self._native(f"analyze {qualified_name}{self._analyzed_columns(qualified_name)}")
        return rows

    def _analyzed_columns(self, qualified_name: str) -> str:
        """The column list ANALYZE takes for a table built from a model: the join and
        filter columns of a staging model, every column of the others."""
        if not qualified_name.startswith("staging."):
            return ""
        present = self.columns(qualified_name)
        keys = [n for n in present if n in _ANALYZED_VALIDATED or n.endswith("_id")]
        return f" ({', '.join(keys)})" if keys else ""

    def _add_keys(self, qualified_name: str) -> None:
        """Primary key and indexes from the contract, for the columns the table has."""
        if qualified_name not in WAREHOUSE_KEYS:
            return
        present = set(self.columns(qualified_name))
        primary_key = WAREHOUSE_KEYS[qualified_name][0]
        if primary_key in present:
            self._native(f"alter table {qualified_name} add primary key ({primary_key})")
        for statement in key_statements(qualified_name, present):
            self._native(statement)

    def declare_production_keys(self) -> None:
        """Declare the keys and indexes of `production/keys.sql` that are still missing
        (after the bulk load: the load itself maintains no index)."""
        existing = {
            row[0]
            for row in self._native(
                "select conname from pg_constraint where connamespace = 'production'::regnamespace"
            )
        }
        for statement in sql_statements("production/keys.sql"):
            name = _CONSTRAINT_NAME.search(statement)
            if name is None or name.group(1) not in existing:
                self._native(statement)

    def date_spine_sql(self, start_sql: str, end_sql: str) -> str:
        # Whole days added to a date stay dates (no time zone, no daylight saving).
        return (
            f"select cast({start_sql} as date) + day_number as full_date "
            f"from generate_series(0, cast({end_sql} as date) - cast({start_sql} as date)) "
            f"as spine(day_number)"
        )

    def existing_tables(self, qualified_names: Sequence[str]) -> set[str]:
        for name in qualified_names:
            check_identifier(name)
        return {
            row[0]
            for row in self._native(
                "select name from unnest(?::text[]) as names(name) "
                "where to_regclass(name) is not null",
                [list(qualified_names)],
            )
        }

    def table_exists(self, qualified_name: str) -> bool:
        check_identifier(qualified_name)
        return bool(self._native_scalar("select to_regclass(?) is not null", [qualified_name]))

    def columns(self, table: str) -> list[str]:
        return [name for name, _ in self._relation_columns(table)]

    def _relation_columns(self, table: str) -> list[tuple[str, str]]:
        """(name, type) of a table or temporary table, in order; [] if it does not exist."""
        check_identifier(table)
        return [
            (row[0], row[1])
            for row in self._native(
                "select attname, format_type(atttypid, atttypmod) from pg_attribute "
                "where attrelid = to_regclass(?) and attnum > 0 and not attisdropped "
                "order by attnum",
                [table],
            )
        ]

    # Schemas and helper functions ------------------------------------------------------

    def create_schemas(self) -> None:
        super().create_schemas()
        self._install_helpers()

    def drop_all(self) -> None:
        super().drop_all()
        self._helpers_ready = False

    def _install_helpers(self) -> None:
        """The `ops.cw_*` functions translated models call (see translation.py)."""
        if self._helpers_ready:
            return
        exists = self._native_scalar("select to_regproc('ops.cw_helpers_version') is not null")
        current = exists and self._native_scalar("select ops.cw_helpers_version()")
        if current != HELPERS_VERSION:
            with self.transaction():
                self._native(HELPER_FUNCTIONS)
        self._helpers_ready = True


def _stage_in_duckdb(
    table: str, columns: Sequence[str], source: Path, batch_id: str
) -> DuckDBEngine:
    """One raw file read in a private in-memory DuckDB exactly as `DuckDBEngine` stages
    it (same rows, lineage and ingest rejects: `read_file`); the caller closes it."""
    # Imported here: the DuckDB reader is only needed to load.
    from cartwheel.engines.duckdb import DuckDBEngine
    from cartwheel.engines.duckdb_staging import read_file

    scratch = DuckDBEngine(":memory:")
    try:
        read_file(scratch.con, table, columns, source, batch_id)
    except BaseException:
        scratch.close()
        raise
    return scratch


def _exact_decimal(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Unconstrained numeric text as a decimal with the largest scale present."""
    text = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    dot = pc.find_substring(text, ".")
    decimals = pc.if_else(
        pc.greater_equal(dot, 0), pc.subtract(pc.subtract(pc.utf8_length(text), dot), 1), 0
    )
    places = pc.max(decimals).as_py() or 0
    try:
        return pa.chunked_array([text.cast(pa.decimal128(38, places))])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.chunked_array([text])
