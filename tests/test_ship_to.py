"""Where the order went: the optional ship-to columns of transactions travel raw ->
staging -> production -> warehouse, and geography follows the order's shipping_state
where it has one, else the state the customer lived in at the time."""

from __future__ import annotations

import csv
import json
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from cartwheel.contract import RAW_COLUMNS, core_columns
from tests.conftest import run_cli

CUSTOMERS = [
    ("CUST0001", "Siobhán", "O'Donnell", "siobhan@example.com", "5550001", "2024-01-02",
     "Albany", "New York", "USA", "36-45"),
    ("CUST0002", "José María", "García", "jose.maria@example.com", "5550002", "2024-01-03",
     "San Diego", "California", "USA", "26-35"),
    ("CUST0003", "伟", "张", "zhang.wei@example.com", "5550003", "2024-01-04",
     "Austin", "Texas", "USA", "18-25"),
]  # fmt: skip
PRODUCTS = [
    ("PROD0001", "Kettle", "Home & Kitchen", "Kettles", "40.00", "25.00", "Brewer", "10", "S1"),
    ("PROD0002", "Novel", "Books", "Fiction", "12.50", "6.00", "Penguin", "5", "S2"),
]
# (id, customer, date, ship-to city, state, postal code, country, items (product, q, price))
TRANSACTIONS = [
    ("TXN00001", "CUST0001", "2024-02-01", "Newark", "New Jersey", "07102", "USA",
     [("PROD0001", 2, "40.00")]),
    ("TXN00002", "CUST0001", "2024-02-02", "", "", "", "", [("PROD0002", 1, "12.50")]),
    ("TXN00003", "CUST0002", "2024-02-03", "San Diego", "California", "92101", "USA",
     [("PROD0001", 1, "40.00"), ("PROD0002", 3, "12.50")]),
    ("TXN00004", "CUST0003", "2024-02-04", "", "", "", "", [("PROD0002", 2, "12.50")]),
]  # fmt: skip
# Hand-computed: New Jersey 80.00 (TXN1), New York 12.50 (TXN2, O'Donnell's home),
# California 77.50 (TXN3), Texas 25.00 (TXN4, 张伟's home, no ship-to state).
EXPECTED_STATES = {
    "New Jersey": (Decimal("80.00"), 1),
    "California": (Decimal("77.50"), 1),
    "Texas": (Decimal("25.00"), 1),
    "New York": (Decimal("12.50"), 1),
}


def write_raw(folder: Path, with_ship_to: bool) -> Path:
    folder.mkdir(parents=True)
    items, transactions = [], []
    for number, (txn, customer, day, *ship_to, lines) in enumerate(TRANSACTIONS, 1):
        total = Decimal(0)
        for line, (product, quantity, price) in enumerate(lines, 1):
            line_total = Decimal(price) * quantity
            total += line_total
            items.append((f"ITEM{number:03d}{line:02d}", txn, product, quantity, price, "0",
                          f"{line_total:.2f}"))  # fmt: skip
        row = (txn, customer, day, "10:00:00", "Credit Card", "", f"{total:.2f}")
        transactions.append(row + tuple(ship_to) if with_ship_to else row)
    transaction_columns = (
        RAW_COLUMNS["transactions"] if with_ship_to else core_columns("transactions")
    )
    tables = {
        "customers": (RAW_COLUMNS["customers"], CUSTOMERS),
        "products": (RAW_COLUMNS["products"], PRODUCTS),
        "transactions": (transaction_columns, transactions),
        "transaction_items": (RAW_COLUMNS["transaction_items"], items),
    }
    for entity, (header, rows) in tables.items():
        with open(folder / f"{entity}.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    return folder


def query6(data_dir: Path) -> dict[str, tuple[Decimal, int]]:
    with open(data_dir / "analytics" / "query6_geographic_analysis.csv", newline="") as handle:
        return {
            row["state"]: (Decimal(row["total_revenue"]), int(row["total_customers"]))
            for row in csv.DictReader(handle)
        }


def dashboard_states(data_dir: Path) -> dict[str, Decimal]:
    html = (data_dir / "dashboard.html").read_text()
    match = re.search(r'<script type="application/json" id="cw-data">(.*?)</script>', html, re.S)
    assert match
    data = json.loads(match.group(1))["data"]
    states = data["dims"]["states"]
    totals: dict[str, Decimal] = {}
    for state, revenue in zip(data["sales"]["state"], data["sales"]["revenue"], strict=True):
        totals[states[state]] = totals.get(states[state], Decimal(0)) + Decimal(str(revenue))
    return {state: round(value, 2) for state, value in totals.items()}


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("ship_to")
    raw = write_raw(tmp / "raw", with_ship_to=True)
    data_dir = tmp / "data"
    run_cli("run", "--input", str(raw), "--data-dir", str(data_dir))
    return data_dir


def test_ship_to_columns_reach_production_and_the_facts(shipped: Path) -> None:
    con = duckdb.connect(str(shipped / "cartwheel.duckdb"), read_only=True)
    try:
        production = con.execute(
            "select transaction_id, shipping_city, shipping_state, shipping_postal_code, "
            "shipping_country from production.transactions order by transaction_id"
        ).fetchall()
        facts = con.execute(
            "select transaction_id, shipping_state, shipping_postal_code, count(*) "
            "from warehouse.fact_sales group by all order by transaction_id"
        ).fetchall()
        quarantined = con.execute("select count(*) from ops.quarantine").fetchall()[0][0]
    finally:
        con.close()
    assert production == [
        ("TXN00001", "Newark", "New Jersey", "07102", "USA"),
        ("TXN00002", None, None, None, None),
        ("TXN00003", "San Diego", "California", "92101", "USA"),
        ("TXN00004", None, None, None, None),
    ]
    assert facts == [
        ("TXN00001", "New Jersey", "07102", 1),
        ("TXN00002", None, None, 1),
        ("TXN00003", "California", "92101", 2),
        ("TXN00004", None, None, 1),
    ]
    assert quarantined == 0


def test_geography_follows_the_ship_to_state_else_the_home_state(shipped: Path) -> None:
    assert query6(shipped) == EXPECTED_STATES
    assert dashboard_states(shipped) == {s: v for s, (v, _) in EXPECTED_STATES.items()}


def test_a_file_without_ship_to_columns_loads_without_warnings(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "raw", with_ship_to=False)
    data_dir = tmp_path / "data"
    run_cli("run", "--input", str(raw), "--data-dir", str(data_dir))
    summary = json.loads((data_dir / "ingestion_summary.json").read_text())
    assert summary["tables_loaded"]["transactions"]["status"] == "success"
    assert summary["tables_loaded"]["transactions"]["error_message"] is None
    # Every order counts where its customer lived: O'Donnell's two in New York.
    assert query6(data_dir) == {
        "New York": (Decimal("92.50"), 1),
        "California": (Decimal("77.50"), 1),
        "Texas": (Decimal("25.00"), 1),
    }
