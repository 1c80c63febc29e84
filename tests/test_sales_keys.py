"""The queued items a warehouse pass numbers (warehouse/sql/queued_items.sql), from each
item's first queue entry: read as they are when no item is queued twice
(queued_once.sql), searched for otherwise (first_queued.sql)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_cli
from tests.test_batch_groups import DAYS, fact_state
from tests.test_scd2_checks import write_batch

# Day 1 alone (I-3 is quarantined): I-1 (the kettle, 80.00) and I-2 (two bowls, 60.00).
DAY_ONE = (2, 140, 2, 140, 54, 140, 54, 3, 140, 0)


def produce(tmp_path: Path, *days: str) -> str:
    """Ingest, quality and production for each day in turn (no warehouse pass)."""
    data = str(tmp_path / "data")
    for day in days:
        folder = write_batch(tmp_path / "input", day, DAYS[day])
        for step in (("ingest", "--input", str(folder)), ("quality",), ("production",)):
            run_cli(*step, "--data-dir", data)
    return data


def execute(data: str, statement: str) -> None:
    con = duckdb.connect(str(Path(data) / "cartwheel.duckdb"))
    con.execute(statement)
    con.close()


def fetch(data: str, query: str) -> list[tuple]:
    con = duckdb.connect(str(Path(data) / "cartwheel.duckdb"), read_only=True)
    found = con.execute(query).fetchall()
    con.close()
    return found


def read_first_entries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files facts.py reads to find the queued items' first entries, as it reads them."""
    from cartwheel.warehouse import facts

    read: list[str] = []
    text = facts.sql_text

    def recording(name: str) -> str:
        if "queued" in name and not name.endswith("queued_items.sql"):
            read.append(name.rsplit("/", 1)[1])
        return text(name)

    monkeypatch.setattr(facts, "sql_text", recording)
    return read


def test_a_backlog_queued_once_takes_the_cheap_first_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Day 1's backlog queues each item once: queued_once.sql, one fact per item. The
    same backlog doubled takes first_queued.sql, still one fact per item."""
    read = read_first_entries(monkeypatch)
    data = produce(tmp_path, "2024-03-01")
    run_cli("warehouse", "--data-dir", data)
    assert (read, fact_state(Path(data))) == (["queued_once.sql"], DAY_ONE)
    doubled = produce(tmp_path / "doubled", "2024-03-01")
    execute(doubled, "insert into ops.warehouse_backlog select * from ops.warehouse_backlog")
    run_cli("warehouse", "--data-dir", doubled)
    assert (read[1:], fact_state(Path(doubled))) == (["first_queued.sql"], DAY_ONE)


def test_the_cheap_first_entries_on_a_doubled_backlog_make_every_fact_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Negative: told that the doubled backlog is queued once, queued_once.sql reads
    every entry as a first one: four facts for two items, 280.00 of sales for 140.00."""
    from cartwheel.warehouse import batch_load

    monkeypatch.setattr(batch_load, "queue_missing_items", lambda *_: True)
    data = produce(tmp_path, "2024-03-01")
    execute(data, "insert into ops.warehouse_backlog select * from ops.warehouse_backlog")
    run_cli("warehouse", "--data-dir", data)
    assert fact_state(Path(data))[:4] == (2, 140, 4, 280)
