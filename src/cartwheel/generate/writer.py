"""Turn raw number tables into the contract's text and write them, chunk by chunk.

DuckDB formats (ids, money, emails, addresses) while it writes, so no Python loop touches
a row. A `FileSink` is one output file; it takes one chunk (a daily batch file, written by
a single COPY) or many (the one-shot layout, streamed: Parquet through a ParquetWriter,
CSV as appended chunks without repeated headers), so memory stays bounded at any scale.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cartwheel.contract import core_columns
from cartwheel.generate import vocab
from cartwheel.parquet import pyarrow_parquet
from cartwheel.sqltext import check_identifier, string_literal

if TYPE_CHECKING:
    import pyarrow.parquet as pq


def _pad(column: str, prefix: str, width: int) -> str:
    return f"'{prefix}' || lpad(cast({column} as varchar), {int(width)}, '0')"


def _money(column: str) -> str:
    return f"cast({column} / 100 as decimal(18, 2))"


def format_sql(entity: str, source: str, widths: Mapping[str, int], as_text: bool = False) -> str:
    """The SELECT that turns raw table `source` into the contract columns of `entity`.

    `as_text` casts every column to VARCHAR (defect mode: any cell may hold bad text).
    """
    check_identifier(source)
    cw, pw, tw, iw = widths["customer"], widths["product"], widths["transaction"], widths["item"]
    columns = {
        "customers": {
            "customer_id": _pad("id", "CUST", cw),
            "first_name": "cast(first_name as varchar)",
            "last_name": "cast(last_name as varchar)",
            # The id keeps every address unique; a changed email changes its style.
            "email": """lower(case email_style
                    when 0 then first_name || '.' || last_name
                    when 1 then substr(first_name, 1, 1) || last_name
                    when 2 then last_name || '.' || first_name
                    else first_name || '_' || last_name end || id || '@' || domain)""",
            "phone": "cast(phone as varchar)",
            "registration_date": "registration_date",
            "city": "cast(city as varchar)",
            "state": "cast(state as varchar)",
            "country": string_literal(vocab.COUNTRY),
            "age_group": "cast(age_group as varchar)",
        },
        "products": {
            "product_id": _pad("id", "PROD", pw),
            "product_name": "brand || ' ' || sub_category || ' ' || noun || ' ' || id",
            "category": "cast(category as varchar)",
            "sub_category": "cast(sub_category as varchar)",
            "price": _money("price_cents"),
            "cost": _money("cost_cents"),
            "brand": "cast(brand as varchar)",
            "stock_quantity": "stock_quantity",
            "supplier_id": _pad("supplier", "SUP", 3),
        },
        "transactions": {
            "transaction_id": _pad("id", "TXN", tw),
            "customer_id": _pad("customer", "CUST", cw),
            "transaction_date": "transaction_date",
            "transaction_time": "transaction_time",
            "payment_method": "cast(payment as varchar)",
            "shipping_address": "street_no || ' ' || street || ', ' || city || ', ' || state",
            "total_amount": _money("total_cents"),
        },
        "transaction_items": {
            "item_id": _pad("id", "ITEM", iw),
            "transaction_id": _pad("txn", "TXN", tw),
            "product_id": _pad("product", "PROD", pw),
            "quantity": "quantity",
            "unit_price": _money("unit_cents"),
            "discount_percentage": "discount",
            "line_total": _money("line_cents"),
        },
    }[entity]
    assert tuple(columns) == core_columns(entity)
    if as_text:
        columns = {name: f"cast({expr} as varchar)" for name, expr in columns.items()}
    select = ",\n    ".join(f"{expr} as {name}" for name, expr in columns.items())
    return f"select\n    {select}\nfrom {source}"


# Four ASCII digits for every number 0..9999: ids are built four digits at a time.
_DIGITS4 = (np.arange(10000)[:, None] // np.array([1000, 100, 10, 1]) % 10 + ord("0")).astype(
    np.uint8
)


def fixed_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """'PREFIX' + zero-padded numbers as an Arrow string array, built as a byte matrix
    (every id has the same length, so offsets are a plain range)."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    groups = -(-width // 4)
    digits = np.empty((len(numbers), 4 * groups), dtype=np.uint8)
    rest = np.asarray(numbers, dtype=np.int64)
    for g in range(groups - 1, -1, -1):
        rest, low = np.divmod(rest, 10000)
        digits[:, 4 * g : 4 * g + 4] = _DIGITS4[low]
    matrix = np.concatenate(
        [np.broadcast_to(head, (len(numbers), len(head))), digits[:, 4 * groups - width :]], axis=1
    )
    size = matrix.shape[1]
    offsets = np.arange(0, (len(numbers) + 1) * size, size, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), len(numbers), [None, pa.py_buffer(offsets), pa.py_buffer(matrix)]
    )


def cents(values: np.ndarray) -> pa.Array:
    """Decimal(18, 2) from integer cents, with no round trip through floats."""
    values = np.asarray(values, dtype=np.int64)
    buf = np.empty(2 * len(values), dtype=np.int64)
    buf[0::2] = values
    buf[1::2] = values >> 63
    return pa.Array.from_buffers(pa.decimal128(18, 2), len(values), [None, pa.py_buffer(buf)])


def arrow_orders(entity: str, raw: pa.Table, widths: Mapping[str, int]) -> pa.Table:
    """Transactions or items in contract columns, built with numpy and Arrow only.

    The fast path for the two big entities in Parquet (no SQL round trip); the same
    values as `format_sql`.
    """
    cw, pw, tw, iw = widths["customer"], widths["product"], widths["transaction"], widths["item"]
    if entity == "transaction_items":
        return pa.table(
            {
                "item_id": fixed_ids("ITEM", raw["id"].to_numpy(), iw),
                "transaction_id": fixed_ids("TXN", raw["txn"].to_numpy(), tw),
                "product_id": fixed_ids("PROD", raw["product"].to_numpy(), pw),
                "quantity": raw["quantity"],
                "unit_price": cents(raw["unit_cents"].to_numpy()),
                "discount_percentage": raw["discount"],
                "line_total": cents(raw["line_cents"].to_numpy()),
            }
        )
    text = {c: raw[c].combine_chunks().dictionary_decode() for c in ("street", "city", "state")}
    address = pc.binary_join_element_wise(
        pc.cast(raw["street_no"], pa.string()),
        " ",
        text["street"],
        ", ",
        text["city"],
        ", ",
        text["state"],
        "",
    )
    return pa.table(
        {
            "transaction_id": fixed_ids("TXN", raw["id"].to_numpy(), tw),
            "customer_id": fixed_ids("CUST", raw["customer"].to_numpy(), cw),
            "transaction_date": raw["transaction_date"],
            "transaction_time": raw["transaction_time"],
            "payment_method": raw["payment"],
            "shipping_address": address,
            "total_amount": cents(raw["total_cents"].to_numpy()),
        }
    )


class FileSink:
    """One output file, written from one or more chunks in order."""

    def __init__(self, path: Path, file_format: str, single_chunk: bool) -> None:
        self.path = path
        self.parquet = file_format == "parquet"
        self.single = single_chunk
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._chunks = 0

    def write_arrow(self, table: pa.Table, dictionary: list[str], statistics: list[str]) -> None:
        """Write a ready Arrow table as the next chunk (Parquet only). Dictionary encoding
        and min/max statistics only where they pay (low-cardinality columns, dates)."""
        self._chunks += 1
        self.rows += table.num_rows
        if self._writer is None:
            self._writer = pyarrow_parquet().ParquetWriter(
                self.path, table.schema, use_dictionary=dictionary, write_statistics=statistics
            )
        self._writer.write_table(table)

    def write(
        self,
        con: duckdb.DuckDBPyConnection,
        sql: str,
        rows: int,
        patches: Mapping[bytes, bytes] | None = None,
    ) -> None:
        """Write the result of `sql` (a SELECT over registered tables) as the next chunk.

        `patches` maps placeholder cell values to the raw bytes that replace them in a CSV
        (how broken lines are made: a writer would otherwise quote them into valid CSV).
        """
        first = self._chunks == 0
        self._chunks += 1
        self.rows += rows
        if self.parquet:
            if self.single:
                con.execute(
                    f"copy ({sql}) to {string_literal(self.path)} (format parquet)"
                ).fetchall()
                return
            table = con.sql(sql).to_arrow_table()
            if self._writer is None:
                self._writer = pyarrow_parquet().ParquetWriter(self.path, table.schema)
            self._writer.write_table(table)
            return
        if self.single and not patches:
            con.execute(
                f"copy ({sql}) to {string_literal(self.path)} (format csv, header true)"
            ).fetchall()
            return
        scratch = self.path.with_name(f".{self.path.name}.chunk")
        header = "true" if first else "false"
        con.execute(
            f"copy ({sql}) to {string_literal(scratch)} (format csv, header {header})"
        ).fetchall()
        data = scratch.read_bytes()
        scratch.unlink()
        if patches:
            pattern = re.compile(b"|".join(re.escape(k) for k in patches))
            data = pattern.sub(lambda m: patches[m.group(0)], data)
        with open(self.path, "wb" if first else "ab") as f:
            f.write(data)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._chunks == 0 and not self.path.exists():
            raise RuntimeError(f"nothing was written to {self.path}")


def remove_scratch(folder: Path) -> None:
    """Delete chunk files left by an interrupted write."""
    for leftover in folder.glob(".*.chunk"):
        os.remove(leftover)
