"""The queued items a warehouse pass numbers (warehouse/sql/queued_items.sql).

Their first queue entries: read as they are when no item is queued twice
(queued_once.sql), searched for otherwise (first_queued.sql).

`sales_key` is a surrogate key, numbered before the fact insert's joins: a gap is
allowed, a duplicate or a silently dropped fact is not. A queue entry whose item
production does not hold makes no fact (a gap, and a warning); a promoted item that finds
no transaction, date or dimension version stops the run with one line and leaves the
warehouse as it was."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cartwheel.cli import app
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


SALES_KEYS = "select item_id, sales_key from warehouse.fact_sales order by sales_key"


def warnings(data: str) -> list[str]:
    """The warnings in the run logs of the data folder, oldest run first."""
    return [
        entry["message"]
        for log in sorted((Path(data) / "logs").glob("run-*.jsonl"))
        for entry in map(json.loads, log.read_text().splitlines())
        if entry["level"] == "warning"
    ]


def test_a_queue_entry_without_its_item_makes_no_fact_and_leaves_a_gap(tmp_path: Path) -> None:
    """I-05, queued for day 1 but not in production, takes sales key 1 (it sorts first)
    and makes no fact: I-1 and I-2 keep keys 2 and 3, every sum counts 140.00 once, the
    entry leaves the queue with a warning. The next pass numbers on from 4."""
    data = produce(tmp_path, "2024-03-01")
    execute(
        data,
        "insert into ops.warehouse_backlog values "
        "('2024-03-01', 'I-05', 'P-KETTLE', 'C-ODONNELL', date '2024-03-01', 0)",
    )
    run_cli("warehouse", "--data-dir", data)
    assert fact_state(Path(data)) == DAY_ONE
    assert fetch(data, SALES_KEYS) == [("I-1", 2), ("I-2", 3)]
    assert warnings(data) == [
        "warehouse: 1 queued item is not in production.transaction_items "
        "and makes no fact (its sales key stays unused): I-05"
    ]
    produce(tmp_path, "2024-03-02")  # I-4 (I-5 waits in quarantine for its customer)
    run_cli("warehouse", "--data-dir", data)
    assert fetch(data, SALES_KEYS) == [("I-1", 2), ("I-2", 3), ("I-4", 4)]


# A promoted item's join partner removed by hand: its transaction, or its product (every
# version of it, so dim_products has none).
LOST_PARTNERS = {
    "transaction": ["delete from production.transactions where transaction_id = 'T-1001'"],
    "product": [
        f"delete from production.{table} where product_id = 'P-KETTLE'"
        for table in ("product_history", "products")
    ],
}


@pytest.mark.parametrize("partner", sorted(LOST_PARTNERS))
def test_a_promoted_item_that_cannot_become_a_fact_stops_the_run(
    tmp_path: Path, partner: str
) -> None:
    """I-1 (the kettle, order T-1001) promoted, then its transaction or product gone: the
    warehouse refuses to drop the sale. One line names the item, exit 1, the failed run
    publishes no warehouse (this was the first pass), the queue is kept."""
    data = produce(tmp_path, "2024-03-01")
    for statement in LOST_PARTNERS[partner]:
        execute(data, statement)
    result = CliRunner().invoke(app, ["warehouse", "--data-dir", data])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert (
        "1 promoted item would have no fact (no transaction, date, or customer or "
        "product version valid on its date): I-1" in result.output
    )
    published = "select count(*) from information_schema.tables where table_schema = 'warehouse'"
    assert fetch(data, published) == [(0,)]
    assert fetch(data, "select item_id from ops.warehouse_backlog order by 1") == [
        ("I-1",),
        ("I-2",),
    ]


def test_without_the_check_the_sale_is_dropped_silently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Negative: with the check switched off, the same run succeeds with one fact for two
    promoted items and empties the queue: I-1's 80.00 is gone from every table."""
    monkeypatch.setattr("cartwheel.warehouse.batch_load.check_every_item_made_a_fact", _unchecked)
    data = produce(tmp_path, "2024-03-01")
    execute(data, *LOST_PARTNERS["transaction"])
    run_cli("warehouse", "--data-dir", data)
    assert fact_state(Path(data)) == (2, 140, 1, 60, 24, 60, 24, 2, 60, 0)


def _unchecked(*_: object) -> None:
    """The check switched off."""


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
