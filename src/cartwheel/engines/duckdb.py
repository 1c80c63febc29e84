"""DuckDB, the embedded default: one database file in the data folder, no server."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from cartwheel.engines.base import Engine, check_identifier


class DuckDBEngine(Engine):
    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, path: str) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.con = duckdb.connect(path)
        # Offline machines: fail fast instead of trying to download extensions.
        self.con.execute("set autoinstall_known_extensions=false")
        self.con.execute("set autoload_known_extensions=false")

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
        check_identifier(table)
        target = f"staging.{table}"
        column_types = ", ".join(f"'{check_identifier(c)}': 'VARCHAR'" for c in columns)
        reader = (
            "read_parquet(?, filename = true)"
            if source.suffix == ".parquet"
            else f"read_csv(?, header = true, columns = {{{column_types}}}, filename = true)"
        )
        column_list = ", ".join(f"cast({c} as varchar) as {c}" for c in columns)
        select = (
            f"select {column_list}, current_timestamp as loaded_at, "
            f"cast(? as varchar) as batch_id, filename as source_file, "
            f"row_number() over () + 1 as source_line from {reader}"
        )
        with self.transaction():
            if not self.table_exists(target):
                self.execute(f"create table {target} as {select} limit 0", [batch_id, str(source)])
            self.execute(f"delete from {target} where batch_id = ?", [batch_id])
            self.execute(f"insert into {target} {select}", [batch_id, str(source)])
        return int(self.scalar(f"select count(*) from {target} where batch_id = ?", [batch_id]))

    def build_table(self, qualified_name: str, select_sql: str) -> int:
        check_identifier(qualified_name)
        self.execute(f"create or replace table {qualified_name} as {select_sql}")
        return self.count(qualified_name)

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
