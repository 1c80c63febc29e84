"""Daily batch folders: a misnamed one is refused, never skipped; a transaction id that an
earlier batch stored is quarantined when re-sent, never counted as promoted."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.reliability.base import csv_bytes, write_base, write_days


@pytest.mark.parametrize("name", ["2024-02-30", "2024-1-3", "20240103", "2024_01_03"])
def test_misnamed_batch_folder_is_refused_in_one_line(cartwheel, tmp_path: Path, name) -> None:
    batches = write_days(tmp_path / "batches")
    write_base(batches / name)
    result = cartwheel("run", "--input", str(batches), "--data-dir", str(tmp_path / "d"))
    assert result.code == 1 and "Traceback" not in result.text
    assert (
        result.err.strip()
        .splitlines()[-1]
        .endswith(
            f"batch folder(s) not named as a valid day YYYY-MM-DD: {name}/ "
            "(rename them; nothing was loaded)"
        )
    )
    con = duckdb.connect(str(tmp_path / "d" / "cartwheel.duckdb"), read_only=True)
    tables = con.execute("select schema_name || '.' || table_name from duckdb_tables()").fetchall()
    assert ("production.transactions",) not in tables  # nothing was loaded
    con.close()


def test_folder_without_raw_files_and_no_date_name_is_ignored(cartwheel, tmp_path: Path) -> None:
    batches = write_days(tmp_path / "batches")
    (batches / "notes").mkdir()
    (batches / "notes" / "readme.txt").write_text("exports from the shop")
    result = cartwheel("run", "--input", str(batches), "--data-dir", str(tmp_path / "d"))
    assert result.code == 0, result.text


def test_resent_transaction_id_is_quarantined_not_counted_as_promoted(
    cartwheel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARTWHEEL_QUALITY_MIN_SCORE", "0")  # look at every row
    batches = write_days(tmp_path / "batches")
    # Day four re-sends TXN00001 (another customer, another total) with a new item, next
    # to two new orders.
    write_base(
        batches / "2024-01-15",
        {
            "customers": csv_bytes("customers", []),
            "products": csv_bytes("products", []),
            "transactions": csv_bytes(
                "transactions",
                [
                    'TXN00001,CUST0002,2024-01-15,10:15:00,UPI,"2 Oak St",35.00',
                    'TXN00006,CUST0003,2024-01-15,11:00:00,UPI,"3 Elm St",35.00',
                    'TXN00007,CUST0004,2024-01-15,12:00:00,UPI,"4 Bay Rd",35.00',
                ],
            ),
            "transaction_items": csv_bytes(
                "transaction_items",
                [
                    "ITEM00099,TXN00001,PROD0003,1,35.00,0,35.00",
                    "ITEM00100,TXN00006,PROD0003,1,35.00,0,35.00",
                    "ITEM00101,TXN00007,PROD0003,1,35.00,0,35.00",
                ],
            ),
        },
    )
    data = tmp_path / "d"
    assert cartwheel("run", "--input", str(batches), "--data-dir", str(data)).code == 0
    con = duckdb.connect(str(data / "cartwheel.duckdb"), read_only=True)
    stored = con.execute(
        "select customer_id, total_amount, (select count(*) from production.transaction_items "
        "where transaction_id = 'TXN00001') from production.transactions "
        "where transaction_id = 'TXN00001'"
    ).fetchall()
    held = con.execute(
        "select entity, reason from ops.quarantine where batch_id = '2024-01-15' order by 1"
    ).fetchall()
    con.close()
    assert [(c, float(t), n) for c, t, n in stored] == [("CUST0001", 949.49, 2)]
    assert held == [
        ("transaction_items", "parent_transaction_rejected"),
        ("transactions", "duplicate_of_earlier_batch"),
    ]
    summary = json.loads((data / "transformation_summary.json").read_text())
    assert (
        "transactions [2024-01-15]: rows in 3 = promoted 2 + quarantined 1 + duplicates removed 0"
        in summary["conservation"]
    )


def test_snapshot_run_twice_quarantines_nothing(cartwheel, tmp_path: Path) -> None:
    """The same snapshot folder re-merged (same batch id) is not a re-send."""
    snapshot = write_base(tmp_path / "shop")
    data = tmp_path / "d"
    for _ in range(2):
        assert cartwheel("run", "--input", str(snapshot), "--data-dir", str(data)).code == 0
    con = duckdb.connect(str(data / "cartwheel.duckdb"), read_only=True)
    assert con.execute("select count(*) from ops.quarantine").fetchall() == [(0,)]
    assert con.execute("select count(*) from production.transactions").fetchall() == [(5,)]
    con.close()
