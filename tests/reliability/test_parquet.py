"""Parquet files as pandas and other writers leave them: typed values are read as the text
a CSV export writes, exactly (a whole float without `.0`, a midnight timestamp as its
date), and then judged by the same strict rules; anything inexact stays rejected."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cartwheel.engines.duckdb import DuckDBEngine
from cartwheel.ingest import ingest
from cartwheel.ingest.raw_files import InputError
from cartwheel.quality.report import run_quality
from tests.reliability.base import HEADERS, ROWS, write_base


def columns(entity: str) -> dict[str, list[str]]:
    """The base rows of `entity` as text columns."""
    rows = list(csv.reader(io.StringIO("\n".join([HEADERS[entity], *ROWS[entity]]))))
    return {name: [row[i] for row in rows[1:]] for i, name in enumerate(rows[0])}


def load(tmp_path: Path, entity: str, table: dict) -> DuckDBEngine:
    """The base set with `entity` as a Parquet file of `table`; ingested and checked."""
    folder = write_base(tmp_path / "b")
    (folder / f"{entity}.csv").unlink()
    pq.write_table(pa.table(table), folder / f"{entity}.parquet")
    engine = DuckDBEngine(":memory:")
    ingest(engine, folder, batch_id="b", run_id="r")
    run_quality(engine, "r", min_score=0.0, input_dir=folder)
    return engine


def held(engine: DuckDBEngine) -> set[tuple[str, int, str]]:
    rows = engine.query("select entity, source_line, reason from ops.quarantine")
    return {(entity, int(line), reason) for entity, line, reason in rows}


def test_float_quantities_and_midnight_timestamps_as_pandas_writes_them(tmp_path: Path) -> None:
    items = columns("transaction_items")
    as_floats = {**items, "quantity": pa.array([float(q) for q in items["quantity"]])}
    engine = load(tmp_path / "items", "transaction_items", as_floats)
    assert held(engine) == set()
    assert (
        engine.scalar(
            "select quantity from staging.transaction_items_validated where item_id = 'ITEM00003'"
        )
        == 2
    )
    orders = columns("transactions")
    stamps = [dt.datetime.fromisoformat(day) for day in orders["transaction_date"]]
    engine = load(tmp_path / "orders", "transactions", {**orders, "transaction_date": stamps})
    assert held(engine) == set()
    assert engine.scalar(
        "select transaction_date from staging.transactions_validated "
        "where transaction_id = 'TXN00002'"
    ) == dt.date(2024, 1, 11)


def test_inexact_typed_values_stay_rejected(tmp_path: Path) -> None:
    items = columns("transaction_items")
    halves = [
        2.5 if item == "ITEM00004" else float(q)
        for item, q in zip(items["item_id"], items["quantity"], strict=True)
    ]
    engine = load(tmp_path / "items", "transaction_items", {**items, "quantity": halves})
    assert held(engine) == {
        ("transaction_items", 5, "unparseable_quantity"),
        ("transactions", 4, "rejected_items"),
    }
    orders = columns("transactions")
    stamps = [dt.datetime.fromisoformat(day) for day in orders["transaction_date"]]
    stamps[3] = stamps[3].replace(hour=9, minute=30)  # TXN00004 (line 5) has a time of day
    engine = load(tmp_path / "orders", "transactions", {**orders, "transaction_date": stamps})
    assert held(engine) == {
        ("transactions", 5, "unparseable_transaction_date"),
        ("transaction_items", 6, "parent_transaction_rejected"),
    }


def test_nested_column_is_an_extra_column(tmp_path: Path) -> None:
    customers = columns("customers")
    address = [{"street": "1 Main St", "zip": "02108"}] * len(customers["customer_id"])
    assert held(load(tmp_path, "customers", {**customers, "address": address})) == set()


def test_a_column_named_twice_in_another_case_is_refused(tmp_path: Path) -> None:
    customers = columns("customers")
    with pytest.raises(InputError, match="the header names 'email' more than once"):
        load(tmp_path, "customers", {**customers, "Email": customers["email"]})
