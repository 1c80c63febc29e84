"""A retail order-line export in the well-known "superstore" shape (one row per line: order
id and date, customer id and name, the order's city/state/postal code, product id,
category, sub-category, name, line sales after discount with 4 decimals, quantity,
discount as a fraction, profit per line; no email, no unit price, no payment method):
after `import` and `run`, revenue equals the export's to the cent, in total, per category
and per ship-to state; profit equals the export's; nothing is quarantined; every conflict
is reported."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from cartwheel.importing import import_export, load_mapping
from tests.conftest import run_cli

HEADER = (
    "Row ID,Order ID,Order Date,Ship Date,Ship Mode,Customer ID,Customer Name,Segment,"
    "Country,City,State,Postal Code,Region,Product ID,Category,Sub-Category,Product Name,"
    "Sales,Quantity,Discount,Profit"
).split(",")
# Our own shop. Products: id -> (category, sub-category, name, list price, cost per unit).
PRODUCTS = {
    "FUR-CH-1001": ("Furniture", "Chairs", "Oak Reading Chair", "249.90", "180.00"),
    "OFF-PA-2001": ("Office Supplies", "Paper", "Easy-staple paper", "13.99", "6.50"),
    "TEC-PH-3001": ("Technology", "Phones", "Kestrel Phone X", "599.00", "410.25"),
    "OFF-BI-2002": ("Office Supplies", "Binders", 'Ring Binder, 2"', "4.48", "2.10"),
}
# The same product id sold under a second name (the later one wins, both are reported).
RENAMED = {"OFF-PA-2001": "Easy-Staple Paper, 500 sheets"}
# Orders: (order id, order date, customer id, customer name, city, state, postal code,
#          lines: (product id, quantity, discount fraction, renamed?))
ORDERS = [
    ("CA-2024-100001", "01/05/2024", "SO-10001", "Siobhán O'Donnell", "Albany", "New York",
     "12207", [("FUR-CH-1001", 2, "0.2", False), ("OFF-PA-2001", 3, "0", False)]),
    ("CA-2024-100002", "01/09/2024", "JM-10002", "José María García", "San Diego",
     "California", "92101", [("TEC-PH-3001", 1, "0.15", False),
                             ("OFF-BI-2002", 7, "0.7", False)]),
    ("CA-2024-100003", "02/14/2024", "ZW-10003", "张伟", "Houston", "Texas", "77002",
     [("OFF-PA-2001", 5, "0.2", True), ("FUR-CH-1001", 1, "0", False)]),
    # O'Donnell again, shipped to her office in another state (a second address).
    ("CA-2024-100004", "03/02/2024", "SO-10001", "Siobhán O'Donnell", "Newark", "New Jersey",
     "07102", [("TEC-PH-3001", 2, "0.1", False), ("OFF-PA-2001", 4, "0", True),
               ("OFF-BI-2002", 3, "0", False)]),
    ("CA-2024-100005", "03/30/2024", "JM-10002", "José María García", "San Diego",
     "California", "92101", [("OFF-BI-2002", 12, "0.2", False)]),
]  # fmt: skip
FOUR = Decimal("0.0001")


def line_amounts(product: str, quantity: int, discount: str) -> tuple[Decimal, Decimal]:
    """Sales after discount and profit, with the export's 4 decimals."""
    price, cost = Decimal(PRODUCTS[product][3]), Decimal(PRODUCTS[product][4])
    sales = (quantity * price * (1 - Decimal(discount))).quantize(FOUR)
    return sales, (sales - quantity * cost).quantize(FOUR)


def write_export(path: Path) -> dict[str, object]:
    """The export file and its own totals (computed from the values written)."""
    totals: dict[str, object] = {
        "revenue": Decimal(0),
        "profit": Decimal(0),
        "category": defaultdict(Decimal),
        "state": defaultdict(Decimal),
    }
    row_id = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for order, day, customer, name, city, state, postal, lines in ORDERS:
            for product, quantity, discount, renamed in lines:
                row_id += 1
                category, sub, title, _, _ = PRODUCTS[product]
                sales, profit = line_amounts(product, quantity, discount)
                writer.writerow([
                    row_id, order, day, day, "Standard Class", customer, name, "Consumer",
                    "United States", city, state, postal, "East", product, category, sub,
                    RENAMED[product] if renamed else title, f"{sales}", quantity, discount,
                    f"{profit}",
                ])  # fmt: skip
                totals["revenue"] += sales  # type: ignore[operator]
                totals["profit"] += profit  # type: ignore[operator]
                totals["category"][category] += sales  # type: ignore[index]
                totals["state"][state] += sales  # type: ignore[index]
    return totals


MAPPING = """
columns:
  transaction_id: Order ID
  transaction_date: Order Date
  customer_id: Customer ID
  full_name: Customer Name
  city: City
  state: State
  country: Country
  shipping_city: City
  shipping_state: State
  shipping_postal_code: Postal Code
  shipping_country: Country
  product_id: Product ID
  category: Category
  sub_category: Sub-Category
  product_name: Product Name
  line_total: Sales
  quantity: Quantity
  discount: Discount
  line_profit: Profit
options:
  discount: fraction
  date_format: "%m/%d/%Y"
"""


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("superstore")
    totals = write_export(root / "orders.csv")
    (root / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    result = import_export(root / "orders.csv", load_mapping(root / "mapping.yaml"), root / "raw")
    run_cli("run", "--input", str(root / "raw"), "--data-dir", str(root / "data"))
    return {"root": root, "totals": totals, "result": result}


def test_hand_computed_export_totals(shop: dict) -> None:
    # 399.84 + 41.97 | 509.15 + 9.408 | 55.96 + 249.90 | 1078.20 + 55.96 + 13.44 | 43.008
    # (2 x 249.90 x 0.8 = 399.84; 7 x 4.48 x 0.3 = 9.408; 12 x 4.48 x 0.8 = 43.008)
    totals = shop["totals"]
    assert totals["revenue"] == Decimal("2456.8360")
    assert dict(totals["state"]) == {
        "New York": Decimal("441.8100"),
        "California": Decimal("561.5660"),
        "Texas": Decimal("305.8600"),
        "New Jersey": Decimal("1147.6000"),
    }
    assert totals["profit"] == Decimal("561.8860")


def test_import_derives_prices_and_keeps_exact_amounts(shop: dict) -> None:
    result = shop["result"]
    assert Decimal(result.export_net_total) == shop["totals"]["revenue"]
    assert Decimal(result.written_total) == shop["totals"]["revenue"]
    assert Decimal(result.export_profit_total) == shop["totals"]["profit"]
    assert result.derived_unit_prices == 10
    with (shop["root"] / "raw" / "transaction_items.csv").open(newline="") as handle:
        items = list(csv.DictReader(handle))
    # Unit prices derived from sales, quantity and discount: the list prices.
    assert [i["unit_price"] for i in items[:4]] == ["249.9000", "13.9900", "599.0000", "4.4800"]
    assert [i["discount_percentage"] for i in items[:4]] == ["20.00", "0.00", "15.00", "70.00"]
    assert items[3]["line_total"] == "9.4080"
    with (shop["root"] / "raw" / "products.csv").open(newline="") as handle:
        products = {p["product_name"]: p for p in csv.DictReader(handle)}
    assert products["Oak Reading Chair"]["cost"] == "180.00"  # from the lines' profit
    assert products["Oak Reading Chair"]["category"] == "Furniture"


def test_conflicts_are_reported_with_examples(shop: dict) -> None:
    summary = json.loads((shop["root"] / "raw" / "import_summary.json").read_text())
    assert summary["conflicts"] == {
        "customers.city": 1,
        "customers.state": 1,
        "products.product_name": 1,
    }
    details = {c["attribute"]: c for c in summary["conflict_details"]}
    assert details["products.product_name"]["examples"] == [
        "OFF-PA-2001: Easy-Staple Paper, 500 sheets | Easy-staple paper -> "
        "Easy-Staple Paper, 500 sheets"
    ]
    assert details["customers.state"]["examples"] == [
        "SO-10001: New Jersey | New York -> New Jersey"
    ]
    assert any(w.startswith("products.product_name: 1 with") for w in summary["warnings"])
    assert "Row ID" in summary["ignored_columns"] and "Region" in summary["ignored_columns"]
    assert {"email", "payment_method"} <= set(summary["unknown_fields"])
    assert "cost" not in summary["unknown_fields"]
    # The name each line was sold under stays in its lineage.
    with (shop["root"] / "raw" / "conflicts.csv").open(newline="") as handle:
        lineage = list(csv.DictReader(handle))
    sold_as = [r for r in lineage if r["attribute"] == "products.product_name"]
    assert [(r["id"], r["value"], r["kept"]) for r in sold_as] == [
        ("ITEM00002", "Easy-staple paper", "Easy-Staple Paper, 500 sheets")
    ]


def test_ids_keep_the_shops_spelling(shop: dict) -> None:
    with (shop["root"] / "raw" / "ids.csv").open(newline="", encoding="utf-8") as handle:
        ids = {(r["entity"], r["id"]): r["source_id"] for r in csv.DictReader(handle)}
    assert ids[("transactions", "TXN00001")] == "CA-2024-100001"
    assert ids[("customers", "CUST0003")] == "ZW-10003"
    assert ids[("products", "PROD0001")] == "FUR-CH-1001"


def test_pipeline_revenue_profit_categories_and_states_equal_the_export(shop: dict) -> None:
    totals, data = shop["totals"], shop["root"] / "data"
    con = duckdb.connect(str(data / "cartwheel.duckdb"), read_only=True)
    try:
        revenue, profit, lines = con.execute(
            "select sum(line_total), sum(profit), count(*) from warehouse.fact_sales"
        ).fetchall()[0]
        production = con.execute(
            "select sum(line_total) from production.transaction_items"
        ).fetchall()[0][0]
        quarantined = con.execute("select count(*) from ops.quarantine").fetchall()[0][0]
    finally:
        con.close()
    assert lines == 10 and quarantined == 0
    assert production == revenue == totals["revenue"]
    assert abs(profit - totals["profit"]) <= Decimal("0.005") * abs(totals["profit"])
    with (data / "analytics" / "query4_category_performance.csv").open(newline="") as f:
        categories = {r["category"]: Decimal(r["total_revenue"]) for r in csv.DictReader(f)}
    assert categories == {k: cents(v) for k, v in totals["category"].items()}
    with (data / "analytics" / "query6_geographic_analysis.csv").open(newline="") as f:
        states = {r["state"]: Decimal(r["total_revenue"]) for r in csv.DictReader(f)}
    assert states == {k: cents(v) for k, v in totals["state"].items()}
