"""DuckDB, the embedded default: one database file in the data folder, no server."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from cartwheel.engines.base import Capabilities, Engine
from cartwheel.engines.duckdb_publish import (
    CatalogWriter,
    Changes,
    apply_settings,
    delete_unused_segments,
    in_sync,
    mark_in_use,
    mark_sealed,
    rebuild_work,
    work_path,
)
from cartwheel.files import fsync_path
from cartwheel.sqltext import check_identifier

if TYPE_CHECKING:
    import pyarrow as pa

    from cartwheel.config import Settings

# Nothing of a run's private file matters until seal() fsyncs it whole (a run that dies
# before is discarded), so its commits and checkpoints skip their own fsyncs.
PRIVATE_FILE_SETTINGS = "set fsync_mode = 'none'"

# A batch and a database this small hold fewer rows per table than one DuckDB row group
# (122,880), the unit it parallelises over: their statements run on one thread whatever
# the setting, and more threads only add their set-up (0.15-0.2 s of CPU of a
# scale-factor-1 run, 5-8%). Scale factor 1 is 1.8 MB of CSV and a 13 MB database.
SERIAL_INPUT_BYTES = 8 * 2**20
SERIAL_DATABASE_BYTES = 32 * 2**20

# PostgreSQL's initcap (first letter of each word upper, the rest lower; a word is a run
# of letters and digits), for the models that re-case all-upper or all-lower names. Each
# connection defines it. One regular expression: DuckDB compiles each Unicode class
# pattern at planning (about 2 ms each), so the words are split once, and a value of one
# word or none takes the short path (the same result as splitting it: checked for every
# code point).
INITCAP_MACRO = r"""
create or replace temp macro initcap(value) as list_transform(
    [regexp_extract_all(lower(value), '[\pL\pN]+|[^\pL\pN]+')],
    lambda words: case
        when len(words) <= 1 then upper(value[1]) || lower(value[2:])
        else array_to_string(list_transform(words, lambda word: upper(word[1]) || word[2:]), '')
    end
)[1]
"""


#: `duckdb_memory_limit: auto`: this share of the machine's memory (or of its container's
#: limit). DuckDB's own default, 80%, let a scale-factor-1000 run reach 12 GB of RSS.
AUTO_MEMORY_SHARE = 0.2
CGROUP_MEMORY_MAX = Path("/sys/fs/cgroup/memory.max")


def machine_memory_bytes() -> int:
    """Physical memory, or the cgroup (container) memory limit if that is lower."""
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        limit = CGROUP_MEMORY_MAX.read_text().strip()
    except OSError:
        return physical
    return min(physical, int(limit)) if limit.isdigit() else physical


def memory_limit(setting: str) -> str:
    """DuckDB's memory_limit for a `duckdb_memory_limit` setting (`auto` or a size)."""
    if setting != "auto":
        return setting
    return f"{max(512, int(machine_memory_bytes() * AUTO_MEMORY_SHARE) // 2**20)}MiB"


def resource_settings(settings: Settings) -> dict[str, str]:
    """DuckDB settings for memory and spilling, applied to every connection of a run."""
    resources = {"memory_limit": memory_limit(settings.duckdb_memory_limit)}
    if settings.duckdb_temp_directory is not None:
        resources["temp_directory"] = str(settings.duckdb_temp_directory)
    return resources


def _connect(path: str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(path, read_only=read_only)
    # Offline machines: fail fast instead of trying to download extensions.
    con.execute("set autoinstall_known_extensions=false")
    con.execute("set autoload_known_extensions=false")
    con.execute(INITCAP_MACRO)
    return con


def next_path(published: Path) -> Path:
    """The private file a run builds before publishing it over `published`."""
    return published.with_name(f".{published.stem}.next{published.suffix}")


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def finish_publish(published: Path) -> None:
    """Rename a sealed next file over the published one (repeatable: a no-op when done)."""
    pending = next_path(published)
    if pending.exists():
        os.replace(pending, published)
        fsync_path(published.parent)


def database_file(settings: Settings) -> Path:
    """The published database file in the data folder.

    Named after the product, not a schema: `warehouse.duckdb` would make
    `warehouse.fact_sales` ambiguous for everyone who opens the file.
    """
    return settings.data_dir / "cartwheel.duckdb"


class DuckDBEngine(Engine):
    name = "duckdb"
    capabilities = Capabilities(
        transactions=True,
        # Per-row index maintenance is the cost: keys and references are proven set-based.
        constraints=False,
        # ART indexes slow bulk inserts and updates; set-based checks prove the keys.
        indexes=False,
        replace_table=True,
        private_run_copy=True,
        not_null=True,
    )

    def __init__(
        self, path: str, read_only: bool = False, resources: Mapping[str, str] | None = None
    ) -> None:
        if path != ":memory:" and not read_only:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.resources = dict(resources or {})
        self.con = _connect(path, read_only)
        self._configure()

    #: A private copy (see `private_copy`): the file that `publish()` renames it over.
    published: Path | None = None
    #: A run on the working database (see `open_for_run`): the catalog it publishes,
    #: what its statements changed, and the size from which a table is published as
    #: segments.
    catalog: Path | None = None
    changes: Changes | None = None
    segment_rows: int = 0
    _segments_in_use: frozenset[str] = frozenset()
    #: One thread (see `fit_threads`), kept across reconnects.
    serial: bool = False
    #: cartwheel's schemas exist on this connection: `create_schemas` (called by every
    #: step, some per batch) sends nothing. Forgotten when they may be gone: a rollback,
    #: a reconnect, `drop_all`.
    _schemas_ready: bool = False

    def _configure(self) -> None:
        """This engine's own settings, on top of every connection's (`_connect`)."""
        apply_settings(self.con, self.resources)
        if self.published is not None or self.catalog is not None:
            self.con.execute(PRIVATE_FILE_SETTINGS)
        if self.serial:
            self.con.execute("set threads = 1")

    @classmethod
    def open(cls, settings: Settings) -> DuckDBEngine:
        return cls(str(database_file(settings)), resources=resource_settings(settings))

    @classmethod
    def open_for_run(cls, settings: Settings) -> DuckDBEngine:
        """An engine on the working database; `seal()` writes the next catalog (what
        changed) and `publish()` renames it over the published one (engines.duckdb_publish).

        Readers holding the published catalog are neither blocked nor shown a half-built
        warehouse. A next catalog left by a killed run is discarded: it was never
        published. A working database that may differ from the catalog is rebuilt first.
        """
        catalog = database_file(settings)
        catalog.parent.mkdir(parents=True, exist_ok=True)
        pending = next_path(catalog)
        for leftover in (pending, _wal(pending)):
            leftover.unlink(missing_ok=True)
        resources = resource_settings(settings)
        proven = in_sync(catalog)
        if not proven:
            rebuild_work(catalog, resources)
        mark_in_use(catalog)
        engine = cls(str(work_path(catalog)), resources=resources)
        engine.catalog = catalog
        engine.state_proven = proven
        engine.changes = Changes()
        engine.segment_rows = settings.duckdb_segment_rows
        engine.con.execute(PRIVATE_FILE_SETTINGS)
        return engine

    @classmethod
    def private_copy(
        cls, published: Path, resources: Mapping[str, str] | None = None
    ) -> DuckDBEngine:
        """An engine on a private copy of the file `published` (see `open_for_run`)."""
        pending = next_path(published)
        published.parent.mkdir(parents=True, exist_ok=True)
        copying = pending.with_name(pending.name + ".copy")
        for leftover in (pending, _wal(pending), copying):
            leftover.unlink(missing_ok=True)
        if published.exists():
            shutil.copyfile(published, copying)
            if _wal(published).exists():
                shutil.copyfile(_wal(published), _wal(pending))
            os.replace(copying, pending)
        engine = cls(str(pending), resources=resources)
        engine.published = published
        engine.con.execute(PRIVATE_FILE_SETTINGS)
        return engine

    @classmethod
    def open_reader(cls, settings: Settings) -> DuckDBEngine:
        published = database_file(settings)
        if not published.exists():
            raise FileNotFoundError(f"{published}: no warehouse yet (run cartwheel run)")
        return cls(str(published), read_only=True, resources=resource_settings(settings))

    @classmethod
    def recover_publish(cls, settings: Settings) -> None:
        finish_publish(database_file(settings))

    @classmethod
    def location(cls, settings: Settings) -> str:
        return str(database_file(settings))

    @classmethod
    def lineage_dataset(cls, settings: Settings, table: str) -> tuple[str, str]:
        return f"duckdb://{socket.gethostname()}{database_file(settings).resolve()}", table

    @classmethod
    def is_transient_error(cls, error: BaseException) -> bool:
        # A file lock held elsewhere, an I/O hiccup, a lost connection.
        return isinstance(error, duckdb.IOException | duckdb.ConnectionException)

    @property
    def database_name(self) -> str:
        return (self.catalog or self.published or Path(self.path)).name

    def seal(self) -> None:
        if self.published is None and self.catalog is None:
            self.close()
            return
        self.con.execute("checkpoint").fetchall()
        copy_whole = False
        if self.catalog is not None:
            writer = CatalogWriter(self.con, self.catalog, self.segment_rows)
            copy_whole = not writer.needs_segments()
            changes = self.changes or Changes(everything=True)
            tables = {} if copy_whole else writer.write(next_path(self.catalog), changes)
            self._segments_in_use = frozenset(writer.files_to_keep(tables))
        self.close()
        wal = _wal(Path(self.path))
        if wal.exists() and wal.stat().st_size > 0:
            raise OSError(f"{wal}: not empty after checkpoint; the run was not published")
        wal.unlink(missing_ok=True)
        fsync_path(Path(self.path))
        if self.catalog is not None:
            pending = next_path(self.catalog)
            if copy_whole:
                shutil.copyfile(self.path, pending)
                fsync_path(pending)
            mark_sealed(self.catalog, pending)

    def publish(self) -> None:
        if self.published is not None:
            finish_publish(self.published)
        if self.catalog is not None:
            finish_publish(self.catalog)
            delete_unused_segments(self.catalog, set(self._segments_in_use))

    def fit_threads(self, input_bytes: int) -> None:
        database = Path(self.path)
        held = database.stat().st_size if database.exists() else 0
        self.serial = input_bytes < SERIAL_INPUT_BYTES and held < SERIAL_DATABASE_BYTES
        self.con.execute("set threads = 1" if self.serial else "reset threads")

    def reconnect(self) -> None:
        self.close()
        self.con = _connect(self.path)
        self._schemas_ready = False
        self._configure()

    def discard(self) -> None:
        self.close()
        if self.published is not None:
            for leftover in (Path(self.path), _wal(Path(self.path))):
                leftover.unlink(missing_ok=True)

    def execute(self, sql: str, params: Sequence[object] | None = None) -> None:
        self.query(sql, params)

    def query(self, sql: str, params: Sequence[object] | None = None) -> list[tuple]:
        rows = self.con.execute(sql, params).fetchall()
        if self.changes is not None:
            self.changes.track(sql, rows)
        return rows

    def query_arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("begin transaction")
        try:
            yield
        except BaseException:
            self._schemas_ready = False  # created inside this transaction, they are gone
            self.con.execute("rollback")
            raise
        self.con.execute("commit")

    def create_schemas(self) -> None:
        if not self._schemas_ready:
            super().create_schemas()
            self._schemas_ready = True

    def drop_all(self) -> None:
        self._schemas_ready = False
        super().drop_all()

    def load_staging(self, table: str, columns: Sequence[str], source: Path, batch_id: str) -> int:
        # The reading itself (header matching, rejects, physical lines) is in its own module.
        from cartwheel.engines.duckdb_staging import INGEST_REJECTS, stage_file

        with self.transaction():
            staged = stage_file(self.con, table, columns, source, batch_id)
            self.execute(
                "delete from ops.quarantine where entity = ? and stage = 'ingest' and batch_id = ?",
                [table, batch_id],
            )
            self.execute(f"insert into ops.quarantine by name select * from {INGEST_REJECTS}")
            self.execute(f"drop table {INGEST_REJECTS}")
        if self.changes is not None:  # the batch's rows are replaced: new ones, or changed
            self.changes.mark(f"staging.{table}", "modified" if staged.replaced else "appended")
        return staged.rows

    def build_table(self, qualified_name: str, select_sql: str) -> int:
        check_identifier(qualified_name)
        # The statement returns its row count: no second query (count(*)) needed.
        sql = f"create or replace table {qualified_name} as {select_sql}"
        return int(self.query(sql)[0][0])

    def date_spine_sql(self, start_sql: str, end_sql: str) -> str:
        return (
            f"select cast(d as date) as full_date "
            f"from generate_series(cast({start_sql} as date), cast({end_sql} as date), "
            f"interval 1 day) as t(d)"
        )

    def existing_tables(self, qualified_names: Sequence[str]) -> set[str]:
        for name in qualified_names:
            check_identifier(name)
        marks = ", ".join("?" for _ in qualified_names)
        return {
            row[0]
            for row in self.query(
                "select table_schema || '.' || table_name from information_schema.tables "
                f"where table_schema || '.' || table_name in ({marks})",
                list(qualified_names),
            )
        }

    def table_exists(self, qualified_name: str) -> bool:
        return qualified_name in self.existing_tables((qualified_name,))

    def columns(self, table: str) -> list[str]:
        check_identifier(table)
        return [row[0] for row in self.query(f"describe {table}")]

    def drop_not_null(self, table: str, columns: Sequence[str]) -> None:
        """DuckDB alters no table that has an index: its indexes come off meanwhile."""
        schema, name = check_identifier(table).split(".")
        indexes = self.query(
            "select index_name, sql from duckdb_indexes() "
            "where database_name = current_database() and schema_name = ? and table_name = ?",
            [schema, name],
        )
        for index, _ in indexes:
            self.execute(f"drop index {schema}.{index}")
        super().drop_not_null(table, columns)
        for _, create in indexes:
            self.execute(create)

    def close(self) -> None:
        self.con.close()
