"""DuckDB, the embedded default: one database file in the data folder, no server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from cartwheel.engines.base import Engine, check_identifier, fsync_path, string_literal

# Nothing of a run's private file matters until seal() fsyncs it whole (a run that dies
# before is discarded), so its commits and checkpoints skip their own fsyncs.
PRIVATE_FILE_SETTINGS = "set fsync_mode = 'none'"

# PostgreSQL's initcap (first letter of each word upper, the rest lower; a word is a run
# of letters and digits), for the models that re-case all-upper or all-lower names. Each
# connection defines it; a single word takes the short path.
INITCAP_MACRO = r"""
create or replace temp macro initcap(value) as case
    when regexp_matches(value, '[^\pL\pN]') then array_to_string(list_transform(
        regexp_extract_all(lower(value), '[\pL\pN]+|[^\pL\pN]+'),
        lambda word: upper(word[1]) || word[2:]), '')
    else upper(value[1]) || lower(value[2:])
end
"""


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


class DuckDBEngine(Engine):
    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, path: str, read_only: bool = False, memory_limit: str | None = None) -> None:
        if path != ":memory:" and not read_only:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.memory_limit = memory_limit
        self.con = _connect(path, read_only)
        self._configure()

    published: Path | None = None

    def _configure(self) -> None:
        """This engine's own settings, on top of every connection's (`_connect`)."""
        if self.memory_limit is not None:
            self.con.execute(f"set memory_limit = {string_literal(self.memory_limit)}")
        if self.published is not None:
            self.con.execute(PRIVATE_FILE_SETTINGS)

    @classmethod
    def for_run(cls, published: Path, memory_limit: str | None = None) -> DuckDBEngine:
        """An engine on a private copy of `published`; `publish()` renames it back.

        A next file left by a killed run is discarded: it was never published.
        """
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
        engine = cls(str(pending), memory_limit=memory_limit)
        engine.published = published
        engine.con.execute(PRIVATE_FILE_SETTINGS)
        return engine

    def seal(self) -> None:
        if self.published is None:
            self.close()
            return
        self.con.execute("checkpoint").fetchall()
        self.close()
        wal = _wal(Path(self.path))
        if wal.exists() and wal.stat().st_size > 0:
            raise OSError(f"{wal}: not empty after checkpoint; the run was not published")
        wal.unlink(missing_ok=True)
        fsync_path(Path(self.path))

    def publish(self) -> None:
        if self.published is not None:
            finish_publish(self.published)

    def reconnect(self) -> None:
        self.close()
        self.con = _connect(self.path)
        self._configure()

    def discard(self) -> None:
        self.close()
        if self.published is not None:
            for leftover in (Path(self.path), _wal(Path(self.path))):
                leftover.unlink(missing_ok=True)

    def execute(self, sql: str, params: Sequence[object] | None = None) -> None:
        self.con.execute(sql, params).fetchall()

    def query(self, sql: str, params: Sequence[object] | None = None) -> list[tuple]:
        return self.con.execute(sql, params).fetchall()

    def query_arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("begin transaction")
        try:
            yield
        except BaseException:
            self.con.execute("rollback")
            raise
        self.con.execute("commit")

    def load_staging(self, table: str, columns: Sequence[str], source: Path, batch_id: str) -> int:
        # The reading itself (header matching, rejects, physical lines) is in its own module.
        from cartwheel.engines.duckdb_staging import load_staging

        with self.transaction():
            return load_staging(self.con, table, columns, source, batch_id)

    def build_table(self, qualified_name: str, select_sql: str) -> int:
        check_identifier(qualified_name)
        # The statement returns its row count: no second query (count(*)) needed.
        rows = self.con.execute(f"create or replace table {qualified_name} as {select_sql}")
        return int(rows.fetchall()[0][0])

    def date_spine_sql(self, start_sql: str, end_sql: str) -> str:
        return (
            f"select cast(d as date) as full_date "
            f"from generate_series(cast({start_sql} as date), cast({end_sql} as date), "
            f"interval 1 day) as t(d)"
        )

    def table_exists(self, qualified_name: str) -> bool:
        schema, table = check_identifier(qualified_name).split(".")
        return bool(
            self.scalar(
                "select count(*) from information_schema.tables "
                "where table_schema = ? and table_name = ?",
                [schema, table],
            )
        )

    def columns(self, table: str) -> list[str]:
        check_identifier(table)
        return [row[0] for row in self.query(f"describe {table}")]

    def close(self) -> None:
        self.con.close()
