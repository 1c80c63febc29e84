"""DuckDB's robust reading of one raw file into `staging.<entity>` (Engine.load_staging).

CSV files are read with DuckDB's parallel reader in strict mode, every column as text,
with rejected records stored instead of raised. Columns are matched by header name, so a
missing column loads as NULL and an extra one is ignored. Every record gets the physical
line it starts on (header = line 1), also when quoted values span lines or records were
rejected; rejected records are kept with their raw text and a reason, for quarantine.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cartwheel.contract import MANDATORY_COLUMNS
from cartwheel.csv_layout import (
    CsvLayout,
    blank_lines,
    inspect_csv,
    readable_copy,
    scan_line_breaks,
    with_uniform_line_breaks,
)
from cartwheel.errors import SourceError
from cartwheel.parquet import pyarrow_parquet
from cartwheel.sqltext import check_identifier, string_literal

# Encodings DuckDB's CSV reader does not know: such a file is read from a UTF-8 copy.
TRANSCODED = ("utf-16-be", "windows-1252")

READ = "staging_read"
PARQUET_READ = "staging_parquet_read"
#: The rows of the last `read_file` to stage (a view), and its rejected records as rows
#: of `ops.quarantine`.
STAGED_ROWS = "staging_rows"
INGEST_REJECTS = "staging_ingest_rejects"
REJECTS = "staging_rejects"
REJECT_SCANS = "staging_reject_scans"
#: The lines after a line with an unterminated quote are read again in windows of at
#: least this size (doubling while no line is broken), for at most MAX_RECOVERIES lines.
RECOVERY_WINDOW_BYTES = 1 << 18
MAX_RECOVERIES = 1000

# DuckDB's error types for a rejected CSV record, as quarantine reason codes.
REJECT_REASONS = {
    "MISSING COLUMNS": "wrong_column_count",
    "TOO MANY COLUMNS": "wrong_column_count",
    "UNQUOTED VALUE": "malformed_csv_line",
    "INVALID ENCODING": "invalid_encoding",
    "INVALID UNICODE": "invalid_encoding",
    "LINE SIZE OVER MAXIMUM": "line_too_long",
    "CONTROL CHARACTER": "control_character",
    "UNACCOUNTED": "unaccounted_line",  # found by the line count, not by the reader
}


def _message(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _csv_reader(layout: CsvLayout) -> str:
    """read_csv over the file's own header positions (c0, c1, ...), all text."""
    names = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(layout.header)))
    return (
        f"read_csv(?, header = true, auto_detect = false, columns = {{{names}}}, "
        f"delim = ',', quote = '\"', escape = '\"', "
        f"encoding = {string_literal(layout.encoding)}, strict_mode = true, "
        f"store_rejects = true, rejects_table = '{REJECTS}', rejects_scan = '{REJECT_SCANS}')"
    )


def _newlines(expression: str) -> str:
    return f"(length({expression}) - length(replace({expression}, chr(10), '')))"


def _exec(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list:
    return con.execute(sql, params).fetchall()


def _read_csv(
    con: duckdb.DuckDBPyConnection,
    source: Path,
    layout: CsvLayout,
    name: str = READ,
    empty_lines: bool = True,
    recover: bool = True,
) -> None:
    """Read a CSV into temp tables `name` (c0.., source_line) and `name_bad`
    (source_line, raw_content, error_type): accepted and rejected records.
    `empty_lines`: whether the file may hold empty lines (False skips looking);
    `recover`: whether to read again the lines an unterminated quote swallowed."""
    for table in (REJECTS, REJECT_SCANS, name, f"{name}_bad"):
        _exec(con, f"drop table if exists {table}")
    fields = [f"c{i}" for i in range(len(layout.header))]
    joined = "concat_ws('', " + ", ".join(fields) + ")"
    _exec(
        con,
        f"create temporary table {name} as select {', '.join(fields)}, "
        f"row_number() over () as record_index, {_newlines(joined)} as newlines "
        f"from {_csv_reader(layout)}",
        [str(source)],
    )
    # DuckDB numbers rejected records by record (header = 1), one row per error.
    _exec(
        con,
        f"create temporary table {name}_bad as "
        f"select line as record_no, "
        f"trim(arg_min(csv_line, byte_position), chr(10) || chr(13)) as raw_content, "
        f"cast(arg_min(error_type, byte_position) as varchar) as error_type "
        f"from {REJECTS} group by line",
    )
    bad = _exec(con, f"select count(*) from {name}_bad")[0][0]
    spanning = _exec(con, f"select count(*) from {name} where newlines > 0")[0][0]
    blanks = blank_lines(source, layout.encoding) if empty_lines else []
    if bad == 0 and spanning == 0:
        _exec(con, f"alter table {name} add column source_line bigint")
        _exec(con, f"update {name} set source_line = record_index + 1")
        _exec(con, f"alter table {name}_bad add column source_line bigint")
        _skip_blank_lines(con, name, [line for line, _ in blanks])
    elif bad == 0:
        _number_lines(con, name, [])
        _skip_blank_lines(con, name, [line for line, _ in blanks])
    else:
        # Rejected records are numbered counting empty lines as records: number the
        # empty lines the same way and let them take their places.
        _number_lines(con, name, [record for _, record in blanks])
        if recover:
            _recover_swallowed(con, source, layout, name)


def _skip_blank_lines(con: duckdb.DuckDBPyConnection, name: str, blanks: list[int]) -> None:
    """Move line numbers past the empty lines the reader skipped: the j-th empty line
    (at line b_j) precedes a record numbered n without it when b_j - j + 1 <= n."""
    if not blanks:
        return
    con.register("staging_blank_lines", pa.table({"line": pa.array(blanks, pa.int64())}))
    shift = (
        "(select count(*) from (select line - row_number() over (order by line) + 1 as at "
        "from staging_blank_lines) as b where b.at <= source_line)"
    )
    for table in (name, f"{name}_bad"):
        _exec(con, f"update {table} set source_line = source_line + {shift}")
    con.unregister("staging_blank_lines")


def _number_lines(con: duckdb.DuckDBPyConnection, name: str, blank_records: list[int]) -> None:
    """Physical lines when records were rejected or span lines. Every record number is
    held by one record only: an empty line numbered as a rejected record (or as the
    header) was inside a quoted value, not a record of its own, and is dropped."""
    con.register(
        "staging_blank_candidates",
        pa.table({"record_no": pa.array(blank_records, pa.int64())}),
    )
    _exec(
        con,
        "create or replace temporary table staging_blank_records as "
        "select record_no from staging_blank_candidates where record_no > 1 "
        f"and record_no not in (select record_no from {name}_bad)",
    )
    con.unregister("staging_blank_candidates")
    # Accepted record i is the i-th record number (from 2) not taken by a rejected one:
    # rejected record r_j (j-th in order) comes before accepted i when r_j - j - 1 < i.
    # A record's physical line then adds the extra lines of every earlier record.
    _exec(
        con,
        f"""
        create or replace temporary table {name} as
        with skipped as (
            -- A skipped record (rejected or empty) precedes accepted record i when fewer
            -- than i accepted records come before it: at position accepted_before + 1.
            select record_no - row_number() over (order by record_no) as position
            from (
                select record_no from {name}_bad
                union all
                select record_no from staging_blank_records
            ) as numbers
        ),
        events as (
            select position, 0 as accepted, cast(null as bigint) as record_index
            from skipped
            union all
            select record_index, 1, record_index from {name}
        ),
        counted as (
            -- One sort instead of a count per row: skipped records first at a position.
            select record_index,
                sum(1 - accepted) over (
                    order by position, accepted rows between unbounded preceding and current row
                ) as skipped_before
            from events
        )
        select r.*, r.record_index + 1 + c.skipped_before as record_no
        from {name} r
        join counted c on c.record_index = r.record_index
        """,
    )
    _exec(
        con,
        f"""
        create or replace temporary table staging_lines as
        select record_no, record_no + coalesce(sum(newlines) over (
            order by record_no rows between unbounded preceding and 1 preceding
        ), 0) as source_line
        from (
            select record_no, newlines from {name}
            union all
            select record_no, {_newlines("raw_content")} from {name}_bad
            union all
            select record_no, 0 from staging_blank_records
        ) as records
        """,
    )
    for table in (name, f"{name}_bad"):
        _exec(
            con,
            f"create or replace temporary table {table} as select t.*, l.source_line "
            f"from {table} t join staging_lines l using (record_no)",
        )
    for table in ("staging_lines", "staging_blank_records"):
        _exec(con, f"drop table {table}")


def _line_breaks(raw: bytes, encoding: str) -> tuple[np.ndarray, np.ndarray]:
    """A file's code units (bytes, or `<u2` for UTF-16) and the positions of its line feeds."""
    unit = np.dtype("<u2") if encoding == "utf-16" else np.dtype(np.uint8)
    data = np.frombuffer(raw[: len(raw) - len(raw) % unit.itemsize], dtype=unit)
    return data, np.flatnonzero(data == 10)


def _first_swallowed(con: duckdb.DuckDBPyConnection, name: str, after: int) -> int | None:
    """The first line after `after` whose record swallowed the lines after it: rejected
    for broken quoting, with line breaks inside."""
    return _exec(
        con,
        f"select min(source_line) from {name}_bad where source_line > ? "
        f"and error_type = 'UNQUOTED VALUE' and contains(raw_content, chr(10))",
        [after],
    )[0][0]


def _recover_swallowed(
    con: duckdb.DuckDBPyConnection, source: Path, layout: CsvLayout, name: str
) -> None:
    """An unterminated quote swallows the lines after it into one rejected record, whose
    text the reader caps at about 10 kB and after which it loses its place. Only the broken
    line stays rejected: the lines after it are read again from the file itself, in
    windows (the header line and the next bytes, cut at a line end outside quotes, growing
    while no line is broken), each window's records kept up to its own first broken line.
    After MAX_RECOVERIES broken lines the rest is left to the line accounting
    (quarantined, not lost)."""
    line = _first_swallowed(con, name, 1)
    if line is None:
        return
    raw = source.read_bytes()
    data, breaks = _line_breaks(raw, layout.encoding)
    size = data.itemsize
    lines = len(breaks) + (0 if len(data) and data[-1] == 10 else 1)
    # Quote characters up to each line's end: a window ending where their number since
    # its start is even ends outside quoted values.
    quotes = np.cumsum(data == 34)[breaks] if len(breaks) else np.zeros(0, np.int64)
    header = raw[: (int(breaks[0]) + 1) * size]
    codec = "utf-16-le" if layout.encoding == "utf-16" else layout.encoding
    window, recovered = RECOVERY_WINDOW_BYTES, 0
    sub = f"{name}_tail"
    _exec(con, f"delete from {name} where source_line > ?", [line])
    _exec(con, f"delete from {name}_bad where source_line > ?", [line])
    with tempfile.TemporaryDirectory(prefix="cartwheel-") as folder:
        while True:
            if line is not None:  # the broken line as its own text; read on after it
                end = int(breaks[line - 1]) * size if line <= len(breaks) else len(raw)
                text = raw[(int(breaks[line - 2]) + 1) * size : end].decode(codec, "replace")
                _exec(
                    con,
                    f"update {name}_bad set raw_content = ? where source_line = ?",
                    [text.rstrip("\r"), line],
                )
                done, window, recovered = line, RECOVERY_WINDOW_BYTES, recovered + 1
            if done >= lines or recovered > MAX_RECOVERIES:
                return
            start = (int(breaks[done - 1]) + 1) * size
            cuts = np.flatnonzero(
                (breaks[done:] * size >= start + window)
                & ((quotes[done:] - quotes[done - 1]) % 2 == 0)
            )
            last = done + 1 + int(cuts[0]) if len(cuts) else lines
            stop = (int(breaks[last - 1]) + 1) * size if len(cuts) else len(raw)
            tail = Path(folder) / source.name
            tail.write_bytes(header + raw[start:stop])
            _read_csv(con, tail, layout, sub, recover=False)
            # The window's line 2 is line done + 1; its records up to its first broken
            # line are final.
            upto = _first_swallowed(con, sub, 1)
            for table, read in ((name, sub), (f"{name}_bad", f"{sub}_bad")):
                _exec(
                    con,
                    f"insert into {table} by name select * exclude (source_line), "
                    f"source_line + ? as source_line from {read} where source_line <= ?",
                    [done - 1, upto if upto is not None else lines],
                )
                _exec(con, f"drop table {read}")
            line = None if upto is None else done - 1 + upto
            if line is None:
                done, window = last, window * 2


def _physical_lines(path: Path, encoding: str) -> tuple[np.ndarray, bytes]:
    """Whether each physical line (index 0 = line 1) is empty, counted from the bytes alone
    (line feeds; a trailing CR belongs to its line), and the file's bytes."""
    raw = path.read_bytes()
    data, breaks = _line_breaks(raw, encoding)
    ends = np.concatenate([breaks, [len(data)]])
    if len(breaks) and breaks[-1] == len(data) - 1:
        ends = ends[:-1]  # the file ends with a line feed: no line after it
    starts = np.concatenate([[0], breaks + 1])[: len(ends)]
    length = ends - starts
    carriage = (length > 0) & (data[np.maximum(ends - 1, 0)] == 13)
    return length - carriage == 0, raw


def _hold_unaccounted_lines(con: duckdb.DuckDBPyConnection, path: Path, encoding: str) -> None:
    """Count records apart from the parser and reconcile: every physical line after the
    header that is not empty must belong to a staged or a rejected record (the record's
    first line plus the line breaks inside it). A line no record claims was swallowed by
    the reader (an unterminated quote with more than its look-ahead after it); it becomes
    a rejected record of its own (`unaccounted_line`, with its raw text), so the rows in =
    staged + rejected equation counts it and nothing is lost without a word."""
    empty, raw = _physical_lines(path, encoding)
    claimed = con.execute(
        f"select source_line, newlines from {READ} union all "
        f"select source_line, {_newlines('raw_content')} from {READ}_bad"
    ).fetchnumpy()
    first = claimed["source_line"].astype(np.int64) - 1
    last = first + claimed["newlines"].astype(np.int64)
    depth = np.zeros(len(empty) + 1, dtype=np.int64)
    np.add.at(depth, np.clip(first, 0, len(empty)), 1)
    np.add.at(depth, np.clip(last + 1, 0, len(empty)), -1)
    unclaimed = (np.cumsum(depth[:-1]) == 0) & ~empty
    unclaimed[:1] = False  # the header
    lines = np.flatnonzero(unclaimed)
    if not len(lines):
        return
    text = raw.decode("utf-16" if encoding == "utf-16" else "utf-8", errors="replace")
    content = pc.utf8_rtrim(pa.array(text.split("\n")).take(pa.array(lines)), "\r")
    con.register(
        "staging_unaccounted",
        pa.table({"source_line": pa.array(lines + 1), "raw_content": content}),
    )
    con.execute(
        f"insert into {READ}_bad by name select source_line, raw_content, "
        "'UNACCOUNTED' as error_type from staging_unaccounted"
    ).fetchall()
    con.unregister("staging_unaccounted")


def _parquet_text(name: str, kind: str) -> str:
    """A typed Parquet column as the text a CSV export writes, exactly: a whole number
    stored as a float (pandas stores integers with gaps as float64) without its `.0`, a
    timestamp at midnight (pandas' dates) as its date. Anything else as DuckDB prints it,
    for the models' strict rules to judge (`2.5`, `2024-01-10 09:30:00`)."""
    column = '"' + name.replace('"', '""') + '"'
    if kind in ("DOUBLE", "FLOAT"):
        return (
            f"case when {column} = trunc({column}) and abs({column}) < 1e15 "
            f"then cast(cast({column} as bigint) as varchar) else cast({column} as varchar) end"
        )
    if kind.startswith("TIMESTAMP") and "TIME ZONE" not in kind:
        return (
            f"case when {column} = cast({column} as date) "
            f"then cast(cast({column} as date) as varchar) else cast({column} as varchar) end"
        )
    return f"cast({column} as varchar)"


def _read_parquet(con: duckdb.DuckDBPyConnection, source: Path) -> tuple[list[str], list[int]]:
    """Define the temporary view PARQUET_READ over a Parquet file (its columns as text,
    c0, c1, ...; read where it is used, never copied); returns the file's column names
    (lower case) and the positions of its text columns (the only ones a NUL byte can be
    in)."""
    con.execute(
        f"create or replace temporary table {READ}_bad (source_line bigint, "
        "raw_content varchar, error_type varchar)"
    ).fetchall()
    columns = con.execute(
        "select column_name, column_type from (describe select * from read_parquet(?))",
        [str(source)],
    ).fetchall()
    # The names as the file writes them (DuckDB renames a second `email` to `email_1`).
    header = [name.strip().lower() for name in pyarrow_parquet().read_schema(source).names]
    fields = ", ".join(
        f"{_parquet_text(name, kind)} as c{i}" for i, (name, kind) in enumerate(columns)
    )
    # A record's line is its position in the file after a header line, as in a CSV.
    con.execute(
        f"create or replace temporary view {PARQUET_READ} as select {fields}, "
        f"file_row_number + 2 as source_line from read_parquet({string_literal(source)}, "
        "file_row_number = true)"
    ).fetchall()
    return header, [i for i, (_, kind) in enumerate(columns) if kind == "VARCHAR"]


# Separators that spreadsheet exports use instead of commas, named for the message.
OTHER_SEPARATORS = {"\t": "tabs", ";": "semicolons", "|": "vertical bars"}


def _check_header(
    source: Path, header: list[str], mandatory: Sequence[str], columns: Sequence[str]
) -> None:
    """Refuse a file whose header lacks a mandatory column or names a contract column
    twice (which of the two holds the data is unknown), in one line."""
    missing = [c for c in mandatory if c not in header]
    if missing:
        found = f"found {', '.join(header) or 'nothing'}"
        separator = next((s for s in OTHER_SEPARATORS if len(header) == 1 and s in header[0]), "")
        if separator:
            found = (
                "the header is one field: fields must be separated by commas, and this file "
                f"separates them with {OTHER_SEPARATORS[separator]}"
            )
        raise SourceError(
            f"{source}: no '{missing[0]}' column in the header, and every row needs one ({found})"
        )
    twice = [c for c in columns if header.count(c) > 1]
    if twice:
        places = ", ".join(str(i + 1) for i, name in enumerate(header) if name == twice[0])
        raise SourceError(
            f"{source}: the header names '{twice[0]}' more than once (columns {places}): "
            "which one holds the data is unknown; rename or remove the others"
        )


class StagedFile(NamedTuple):
    """What `stage_file` did: rows staged, and whether they replaced rows of the batch."""

    rows: int
    replaced: bool


def stage_file(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    source: Path,
    batch_id: str,
) -> StagedFile:
    """Stage one raw file as `Engine.load_staging` describes; its rejected records are
    left in the temporary table INGEST_REJECTS for the engine to quarantine. Runs inside
    the caller's transaction."""
    read_file(con, table, columns, source, batch_id)
    target = f"staging.{table}"
    existing = {
        name
        for (name,) in con.execute(
            "select column_name from duckdb_columns() where database_name = current_database() "
            "and schema_name = 'staging' and table_name = ?",
            [table],
        ).fetchall()
    }
    if not existing:
        con.execute(f"create table {target} as select * from {STAGED_ROWS} limit 0").fetchall()
    # A staging table from before a contract column was added gets that column.
    for column in columns:
        if existing and column not in existing:
            con.execute(f"alter table {target} add column {column} varchar").fetchall()
    # The statement returns the rows it deleted: whether the batch was staged before.
    (deleted,) = con.execute(f"delete from {target} where batch_id = ?", [batch_id]).fetchall()[0]
    with read_errors(source):
        # The batch's rows were deleted: the rows inserted are the batch's rows.
        (inserted,) = con.execute(
            f"insert into {target} by name select * from {STAGED_ROWS}"
        ).fetchall()[0]
    release_read(con, parquet=source.suffix == ".parquet")
    return StagedFile(int(inserted), replaced=int(deleted) > 0)


@contextmanager
def read_errors(source: Path) -> Iterator[None]:
    """A Parquet file is read where its rows are used (a damaged page shows only then):
    its reading errors there become a SourceError, in one line."""
    try:
        yield
    except (duckdb.Error, pa.ArrowException) as error:
        if source.suffix != ".parquet" or isinstance(
            error, duckdb.IOException | duckdb.OutOfMemoryException
        ):
            raise
        raise SourceError(f"{source}: cannot be read ({_message(error)})") from error


def read_file(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    source: Path,
    batch_id: str,
) -> None:
    """Read one raw file: the temporary view STAGED_ROWS holds the rows to stage (the
    contract's columns, `loaded_at` and the lineage), computed where it is used (an insert,
    or Arrow batches for another engine's bulk load), and INGEST_REJECTS its rejected
    records. `release_read` drops what the view reads."""
    check_identifier(table)
    for column in columns:
        check_identifier(column)
    parquet = source.suffix == ".parquet"
    try:
        if parquet:
            header, text_columns = _read_parquet(con, source)
        else:
            layout = inspect_csv(source)
            header = layout.header
            text_columns = list(range(len(header)))
            if layout.empty:
                header = list(columns)
                con.execute(
                    f"create or replace temporary table {READ} as select "
                    + ", ".join(f"cast(null as varchar) as c{i}" for i in range(len(columns)))
                    + ", cast(null as bigint) as source_line limit 0"
                ).fetchall()
                con.execute(
                    f"create or replace temporary table {READ}_bad (source_line bigint, "
                    "raw_content varchar, error_type varchar)"
                ).fetchall()
            else:
                with tempfile.TemporaryDirectory(prefix="cartwheel-") as folder:
                    readable = source
                    if layout.encoding in TRANSCODED:
                        readable = readable_copy(source, layout.encoding, Path(folder))
                        layout = CsvLayout("utf-8", layout.new_line, list(layout.header))
                    breaks = scan_line_breaks(readable, layout.encoding)
                    if not breaks.nul_bytes:  # no field can hold one: nothing to look for
                        text_columns = []
                    # Mixed line breaks (a line appended on another system) stop DuckDB's
                    # reader: it reads a copy with uniform breaks and the same lines.
                    if breaks.mixed:
                        readable = with_uniform_line_breaks(readable, Path(folder))
                    _read_csv(con, readable, layout, empty_lines=breaks.empty_lines)
                    _hold_unaccounted_lines(con, readable, layout.encoding)
    except SourceError:
        raise
    except (duckdb.Error, OSError, pa.ArrowException) as error:
        raise SourceError(f"{source}: cannot be read ({_message(error)})") from error

    _check_header(source, header, MANDATORY_COLUMNS.get(table, columns[:1]), columns)
    positions = {c: (header.index(c) if c in header else None) for c in columns}
    select_list = ", ".join(
        f"c{positions[c]} as {c}" if positions[c] is not None else f"cast(null as varchar) as {c}"
        for c in columns
    )
    # A record with a NUL byte is quarantined as that line's fault, not staged.
    fields = [f"c{i}" for i in range(len(header))]
    has_nul = " or ".join(f"contains(c{i}, chr(0))" for i in text_columns) or "false"
    records = PARQUET_READ if parquet else READ
    con.execute(
        f"create or replace temporary view {STAGED_ROWS} as select {select_list}, "
        f"current_timestamp as loaded_at, cast({string_literal(batch_id)} as varchar) "
        f"as batch_id, cast({string_literal(str(source))} as varchar) as source_file, "
        f"cast(source_line as bigint) as source_line "
        f"from {records} where not coalesce({has_nul}, false)"
    ).fetchall()
    joined = f"concat_ws(',', {', '.join(fields)})" if fields else "''"
    with read_errors(source):
        # A Parquet file is read here (a damaged page shows only now).
        con.execute(
            f"insert into {READ}_bad by name select source_line, {joined} as raw_content, "
            f"'CONTROL CHARACTER' as error_type from {records} where coalesce({has_nul}, false)"
        ).fetchall()
    reasons = " ".join(
        f"when {string_literal(kind)} then {string_literal(reason)}"
        for kind, reason in REJECT_REASONS.items()
    )
    con.execute(
        f"create or replace temporary table {INGEST_REJECTS} as select "
        "cast(? as varchar) as entity, cast(? as varchar) as batch_id, "
        "cast(? as varchar) as source_file, source_line, "
        # The key as written, best effort: the field at the key's header position.
        f"nullif(trim(split_part(raw_content, ',', {header.index(columns[0]) + 1}), '\" '), '') "
        f"as record_key, raw_content, "
        f"case error_type {reasons} else 'malformed_csv_line' end as reason, "
        "'ingest' as stage, cast(current_timestamp as timestamp) as quarantined_at "
        f"from {READ}_bad",
        [table, batch_id, str(source)],
    ).fetchall()


def release_read(con: duckdb.DuckDBPyConnection, parquet: bool) -> None:
    """Drop STAGED_ROWS and the temporary tables it reads (a Parquet file's read made
    only its view and the table of records with a NUL byte)."""
    for view in (STAGED_ROWS, PARQUET_READ):
        con.execute(f"drop view if exists {view}").fetchall()
    tables = (f"{READ}_bad",) if parquet else (READ, f"{READ}_bad", REJECTS, REJECT_SCANS)
    for name in tables:
        con.execute(f"drop table if exists {name}").fetchall()
