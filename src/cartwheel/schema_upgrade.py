"""Bring tables created by an older cartwheel up to the current DDL where that is cheap: a
column the DDL now leaves optional (a shop's data may lack it) loses the NOT NULL an older
version declared, so such a database needs no `--rebuild`."""

from __future__ import annotations

import re

from cartwheel.engines import Engine
from cartwheel.sqlfiles import sql_text

_TABLE = re.compile(r"create table if not exists (\w+)\.(\w+) \((.*?)\n\);", re.S)
_NOT_NULL_COLUMN = re.compile(r"^\s+(\w+) [^\n]*\bnot null\b", re.M)


def declared_not_null(ddl_path: str) -> dict[tuple[str, str], set[str]]:
    """(schema, table) -> the columns the DDL file declares NOT NULL."""
    return {
        (schema, table): set(_NOT_NULL_COLUMN.findall(body))
        for schema, table, body in _TABLE.findall(sql_text(ddl_path))
    }


def drop_stale_not_null(engine: Engine, ddl_path: str) -> list[str]:
    """Drop NOT NULL from the columns of the file's tables that the file declares optional;
    returns them as `schema.table.column` (none on a database the file created)."""
    if not engine.capabilities.not_null:
        return []
    declared = declared_not_null(ddl_path)
    schemas = sorted({schema for schema, _ in declared})
    rows = engine.query(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_catalog = current_database() and is_nullable = 'NO' "
        f"and table_schema in ({', '.join('?' for _ in schemas)}) "
        "order by table_schema, table_name, ordinal_position",
        schemas,
    )
    stale = [
        (schema, table, column)
        for schema, table, column in rows
        if (schema, table) in declared and column not in declared[(schema, table)]
    ]
    for schema, table in sorted({(schema, table) for schema, table, _ in stale}):
        columns = [c for s, t, c in stale if (s, t) == (schema, table)]
        engine.drop_not_null(f"{schema}.{table}", columns)
    return [".".join(names) for names in stale]
