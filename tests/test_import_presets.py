"""Built-in presets beyond Shopify, each on a hand-made export in the header its format's
public documentation gives, with hand-computed totals: import, run, and the warehouse has
the export's revenue to the cent, in total and per ship-to state, nothing quarantined."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cartwheel.cli import app
from tests.conftest import run_cli

# Seller Central's Order Report, columns in the order its field definitions list them.
AMAZON_HEADER = (
    "order-id\torder-item-id\tpurchase-date\tpayments-date\tbuyer-email\tbuyer-name\tsku\t"
    "product-name\tquantity-purchased\tcurrency\titem-price\titem-tax\tshipping-price\t"
    "shipping-tax\tship-service-level\trecipient-name\tship-address-1\tship-address-2\t"
    "ship-address-3\tship-city\tship-state\tship-postal-code\tship-country\t"
    "item-promotion-discount\titem-promotion-id\tship-promotion-discount\tship-promotion-id"
).split("\t")
# (order, item, purchase date, email, buyer, sku, product, qty, item-price (all units),
#  promotion discount, city, state, postal code)
AMAZON_LINES = [
    ("111-0000001-0000001", "70001", "2024-04-02T09:15:00+00:00", "odonnell@marketplace.test",
     "Siobhán O'Donnell", "KETTLE-1", "Copper Kettle 1.7 l", 2, "79.98", "8.00", "Albany",
     "NY", "12207"),
    ("111-0000001-0000001", "70002", "2024-04-02T09:15:00+00:00", "odonnell@marketplace.test",
     "Siobhán O'Donnell", "MUG-2", "Stoneware Mug", 4, "47.96", "0.00", "Albany", "NY",
     "12207"),
    ("111-0000002-0000002", "70003", "2024-04-03T18:40:00+00:00", "josemaria@marketplace.test",
     "José María García", "KETTLE-1", "Copper Kettle, 1.7 litre", 1, "39.99", "0.00",
     "San Diego", "CA", "92101"),
    ("111-0000003-0000003", "70004", "2024-04-05T07:05:00+00:00", "zhang.wei@marketplace.test",
     "张伟", "TEA-3", "Oolong Tea 250 g", 3, "44.85", "4.49", "Houston", "TX", "77002"),
    # O'Donnell again, shipped to New Jersey: a second address.
    ("111-0000004-0000004", "70005", "2024-04-09T12:00:00+00:00", "odonnell@marketplace.test",
     "Siobhán O'Donnell", "TEA-3", "Oolong Tea 250 g", 1, "14.95", "0.00", "Newark", "NJ",
     "07102"),
]  # fmt: skip
# Hand-computed: 79.98 - 8.00 = 71.98; 47.96; 39.99; 44.85 - 4.49 = 40.36; 14.95.
AMAZON_TOTAL = Decimal("215.24")
AMAZON_STATES = {
    "NY": Decimal("119.94"),
    "CA": Decimal("39.99"),
    "TX": Decimal("40.36"),
    "NJ": Decimal("14.95"),
}


def write_amazon(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(AMAZON_HEADER)
        for (order, item, day, email, buyer, sku, name, qty, price, promo, city, state,
             postal) in AMAZON_LINES:  # fmt: skip
            row = dict.fromkeys(AMAZON_HEADER, "")
            row.update({
                "order-id": order, "order-item-id": item, "purchase-date": day,
                "payments-date": day, "buyer-email": email, "buyer-name": buyer, "sku": sku,
                "product-name": name, "quantity-purchased": qty, "currency": "USD",
                "item-price": price, "item-tax": "0.00", "shipping-price": "4.99",
                "shipping-tax": "0.00", "ship-service-level": "Standard",
                "recipient-name": buyer, "ship-address-1": "1 Main St", "ship-city": city,
                "ship-state": state, "ship-postal-code": postal, "ship-country": "US",
                "item-promotion-discount": promo,
            })  # fmt: skip
            writer.writerow(row.values())
    return path


@pytest.fixture(scope="module")
def amazon(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("amazon")
    export = write_amazon(root / "order_report.txt")
    run_cli("import", str(export), "--preset", "amazon", "--out", str(root / "raw"))
    run_cli("run", "--input", str(root / "raw"), "--data-dir", str(root / "data"))
    return root


def test_amazon_order_report_revenue_and_states_equal_the_export(amazon: Path) -> None:
    con = duckdb.connect(str(amazon / "data" / "cartwheel.duckdb"), read_only=True)
    try:
        revenue, profit, lines = con.execute(
            "select sum(line_total), sum(profit), count(*) from warehouse.fact_sales"
        ).fetchall()[0]
        quarantined = con.execute("select count(*) from ops.quarantine").fetchall()[0][0]
        times = con.execute(
            "select distinct transaction_time from production.transactions order by 1"
        ).fetchall()
    finally:
        con.close()
    assert (revenue, lines, quarantined) == (AMAZON_TOTAL, 5, 0)
    assert profit is None  # the report has no cost: profit unknown, not invented
    assert times[0] == ("07:05:00",)
    with (amazon / "data" / "analytics" / "query6_geographic_analysis.csv").open() as f:
        states = {r["state"]: Decimal(r["total_revenue"]) for r in csv.DictReader(f)}
    assert states == AMAZON_STATES


def test_amazon_conflicts_and_ids(amazon: Path) -> None:
    summary = json.loads((amazon / "raw" / "import_summary.json").read_text())
    assert Decimal(summary["export_net_total"]) == AMAZON_TOTAL
    assert summary["conflicts"] == {
        "customers.city": 1,
        "customers.state": 1,
        "products.product_name": 1,
    }
    assert "item-tax" in summary["ignored_columns"]
    with (amazon / "raw" / "ids.csv").open(newline="", encoding="utf-8") as handle:
        ids = {(r["entity"], r["id"]): r["source_id"] for r in csv.DictReader(handle)}
    assert ids[("transactions", "TXN00001")] == "111-0000001-0000001"
    assert ids[("products", "PROD0001")] == "KETTLE-1"


def test_help_lists_the_presets() -> None:
    result = CliRunner().invoke(app, ["import", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.replace("│", " ").split())
    assert "amazon (Amazon Seller Central: Order Report" in text
    assert "shopify (Shopify: Admin > Orders > Export" in text
