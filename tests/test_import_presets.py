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


def query(root: Path, sql: str) -> list[tuple]:
    """Rows of `sql` on the database of `cartwheel run --data-dir root/data`."""
    con = duckdb.connect(str(root / "data" / "cartwheel.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def warehouse_totals(root: Path) -> tuple:
    """Revenue, profit and lines in fact_sales, and the rows in quarantine."""
    return query(
        root,
        "select sum(line_total), sum(profit), count(*), "
        "(select count(*) from ops.quarantine) from warehouse.fact_sales",
    )[0]


@pytest.fixture(scope="module")
def amazon(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("amazon")
    export = write_amazon(root / "order_report.txt")
    run_cli("import", str(export), "--preset", "amazon", "--out", str(root / "raw"))
    run_cli("run", "--input", str(root / "raw"), "--data-dir", str(root / "data"))
    return root


def test_amazon_order_report_revenue_and_states_equal_the_export(amazon: Path) -> None:
    revenue, profit, lines, quarantined = warehouse_totals(amazon)
    times = query(
        amazon, "select distinct transaction_time from production.transactions order by 1"
    )
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
    assert "woocommerce (WooCommerce Customer/Order/Coupon Export" in text


# WooCommerce Customer/Order/Coupon Export, format "Default - One Row per Item": the
# columns its format definition lists, in that order, with the vat_number column the
# extension inserts after billing_company for its predefined formats.
WOO_HEADER = (
    "order_id,order_number,date,status,shipping_total,shipping_tax_total,fee_total,"
    "fee_tax_total,tax_total,discount_total,order_total,refunded_total,order_currency,"
    "payment_method,shipping_method,customer_id,billing_first_name,billing_last_name,"
    "billing_company,vat_number,billing_email,billing_phone,billing_address_1,"
    "billing_address_2,"
    "billing_postcode,billing_city,billing_state,billing_country,shipping_first_name,"
    "shipping_last_name,shipping_address_1,shipping_address_2,shipping_postcode,"
    "shipping_city,shipping_state,shipping_country,shipping_company,customer_note,item_id,"
    "item_product_id,item_name,item_sku,item_price,item_quantity,item_subtotal,"
    "item_subtotal_tax,item_total,item_total_tax,item_refunded,item_refunded_qty,item_meta,"
    "shipping_items,fee_items,tax_items,coupon_items,order_notes,download_permissions_granted"
).split(",")
# Orders: (order id, date, status, gateway, user id (0 = guest), first, last, email, phone,
#          billing city/state/postcode, ship-to city/state/postcode, shipping, tax, discount,
#          order total, lines: (item id, product id, sku, name, qty, subtotal, total, tax))
WOO_ORDERS = [
    ("1001", "2024-05-02 10:15:00", "completed", "stripe", "12", "Siobhán", "O'Donnell",
     "siobhan.odonnell@shop.test", "518-555-0101", ("Albany", "New York", "12207"),
     ("Albany", "New York", "12207"), "5.00", "10.44", "14.50", "145.94",
     [("71", "201", "MUG-STONE", "Stoneware Mug", 4, "56.00", "50.40", "4.03"),
      ("72", "203", "KETTLE-CU", "Copper Kettle", 1, "89.00", "80.10", "6.41")]),
    ("1002", "2024-05-03 18:40:12", "processing", "paypal", "0", "José María", "García",
     "josemaria.garcia@shop.test", "", ("San Diego", "California", "92101"),
     ("San Diego", "California", "92101"), "0.00", "0.00", "0.00", "37.50",
     [("73", "202", "TEA-OOLONG-250", "Oolong Tea 250 g", 3, "37.50", "37.50", "0.00")]),
    # 张伟 gives one name; lives in Texas, sends the order to Oregon; gift wrap has no SKU.
    ("1003", "2024-05-07 09:05:00", "completed", "cod", "15", "张伟", "",
     "zhang.wei@shop.test", "", ("Houston", "Texas", "77002"),
     ("Portland", "Oregon", "97201"), "7.50", "0.00", "0.00", "35.50",
     [("74", "202", "TEA-OOLONG-250", "Oolong Tea, 250 g tin", 2, "25.00", "25.00", "0.00"),
      ("75", "311", "", "Gift Wrap", 1, "3.00", "3.00", "0.00")]),
    # O'Donnell again (her email now written with capitals), from a new address.
    ("1004", "2024-05-11 21:30:45", "completed", "bacs", "12", "Siobhán", "O'Donnell",
     "Siobhan.ODonnell@shop.test", "518-555-0101", ("Newark", "New Jersey", "07102"),
     ("Newark", "New Jersey", "07102"), "0.00", "10.61", "17.80", "170.81",
     [("76", "203", "KETTLE-CU", "Copper Kettle", 2, "178.00", "160.20", "10.61")]),
    # A gateway the preset does not know keeps its own name.
    # The extension writes a value starting with + = - @ with a leading ' (no formula).
    ("1005", "2024-05-12 08:00:00", "completed", "klarna_payments", "21", "Hamish",
     "MacDonald", "hamish.macdonald@shop.test", "'+1 617-555-0199",
     ("Boston", "Massachusetts", "02108"), ("Boston", "Massachusetts", "02108"), "4.00",
     "0.00", "0.00", "44.50",
     [("77", "201", "MUG-STONE", "Stoneware Mug", 2, "28.00", "28.00", "0.00"),
      ("78", "202", "TEA-OOLONG-250", "Oolong Tea 250 g", 1, "12.50", "12.50", "0.00")]),
    ("1006", "2024-05-14 14:22:09", "completed", "stripe", "0", "Pieter", "van der Berg",
     "pieter.vanderberg@shop.test", "", ("Grand Rapids", "Michigan", "49503"),
     ("Grand Rapids", "Michigan", "49503"), "5.00", "0.00", "2.80", "16.20",
     [("79", "201", "MUG-STONE", "Stoneware Mug", 1, "14.00", "11.20", "0.00")]),
]  # fmt: skip
# Hand-computed: 50.40 + 80.10 + 37.50 + 25.00 + 3.00 + 160.20 + 28.00 + 12.50 + 11.20.
WOO_TOTAL = Decimal("407.90")
WOO_STATES = {
    "New York": Decimal("130.50"),
    "California": Decimal("37.50"),
    "Oregon": Decimal("28.00"),
    "New Jersey": Decimal("160.20"),
    "Massachusetts": Decimal("40.50"),
    "Michigan": Decimal("11.20"),
}
WOO_PAYMENTS = {
    "Credit Card": Decimal("141.70"),
    "PayPal": Decimal("37.50"),
    "Cash on Delivery": Decimal("28.00"),
    "Bank Transfer": Decimal("160.20"),
    "klarna_payments": Decimal("40.50"),
}


def write_woocommerce(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(WOO_HEADER)
        for (order, day, status, gateway, user, first, last, email, phone, billing, ship,
             shipping, tax, discount, total, lines) in WOO_ORDERS:  # fmt: skip
            for item, product, sku, name, qty, subtotal, line_total, line_tax in lines:
                row = dict.fromkeys(WOO_HEADER, "")
                row.update({
                    "order_id": order, "date": day, "status": status,
                    "shipping_total": shipping, "shipping_tax_total": "0.00",
                    "fee_total": "0.00", "fee_tax_total": "0.00", "tax_total": tax,
                    "discount_total": discount, "order_total": total,
                    "refunded_total": "0.00", "order_currency": "USD",
                    "payment_method": gateway, "shipping_method": "Flat rate",
                    "customer_id": user, "billing_first_name": first,
                    "billing_last_name": last, "billing_email": email, "billing_phone": phone,
                    "billing_address_1": "12 Harbour Road", "billing_city": billing[0],
                    "billing_state": billing[1], "billing_postcode": billing[2],
                    "billing_country": "US", "shipping_first_name": first,
                    "shipping_last_name": last, "shipping_address_1": "12 Harbour Road",
                    "shipping_city": ship[0], "shipping_state": ship[1],
                    "shipping_postcode": ship[2], "shipping_country": "US", "item_id": item,
                    "item_product_id": product, "item_name": name, "item_sku": sku,
                    "item_price": str(Decimal(subtotal) / qty), "item_quantity": qty,
                    "item_subtotal": subtotal, "item_subtotal_tax": line_tax,
                    "item_total": line_total, "item_total_tax": line_tax,
                    "item_refunded": "0.00", "item_refunded_qty": "0",
                    "download_permissions_granted": "0",
                })  # fmt: skip
                writer.writerow(row.values())
    return path


@pytest.fixture(scope="module")
def woocommerce(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("woocommerce")
    export = write_woocommerce(root / "orders-export.csv")
    run_cli("import", str(export), "--preset", "woocommerce", "--out", str(root / "raw"))
    run_cli("run", "--input", str(root / "raw"), "--data-dir", str(root / "data"))
    return root


def _analytics(root: Path, name: str, key: str, value: str) -> dict[str, str]:
    with (root / "data" / "analytics" / name).open(newline="", encoding="utf-8") as handle:
        return {r[key]: r[value] for r in csv.DictReader(handle)}


def test_woocommerce_revenue_states_and_payments_equal_the_export(woocommerce: Path) -> None:
    revenue, profit, lines, quarantined = warehouse_totals(woocommerce)
    customers = query(
        woocommerce,
        "select first_name, last_name, email, state, phone from production.customers order by 1",
    )
    assert (revenue, lines, quarantined) == (WOO_TOTAL, 9, 0)
    assert profit is None  # the export has no cost: profit unknown, not invented
    assert customers == [
        ("Hamish", "MacDonald", "hamish.macdonald@shop.test", "Massachusetts", "16175550199"),
        ("José María", "García", "josemaria.garcia@shop.test", "California", None),
        ("Pieter", "van der Berg", "pieter.vanderberg@shop.test", "Michigan", None),
        ("Siobhán", "O'Donnell", "siobhan.odonnell@shop.test", "New Jersey", "5185550101"),
        ("张伟", None, "zhang.wei@shop.test", "Texas", None),
    ]
    states = _analytics(woocommerce, "query6_geographic_analysis.csv", "state", "total_revenue")
    assert {k: Decimal(v) for k, v in states.items()} == WOO_STATES
    payments = _analytics(
        woocommerce, "query5_payment_distribution.csv", "payment_method", "total_revenue"
    )
    assert {k: Decimal(v) for k, v in payments.items()} == WOO_PAYMENTS
    # No category in the export: one unknown category with all the revenue, no profit.
    categories = _analytics(
        woocommerce, "query4_category_performance.csv", "category", "total_revenue"
    )
    assert {k: Decimal(v) for k, v in categories.items()} == {"": WOO_TOTAL}


def test_woocommerce_conflicts_ids_and_ignored_columns(woocommerce: Path) -> None:
    summary = json.loads((woocommerce / "raw" / "import_summary.json").read_text())
    assert Decimal(summary["export_net_total"]) == WOO_TOTAL
    assert summary["record_counts"] == {
        "customers": 5,
        "products": 4,
        "transactions": 6,
        "transaction_items": 9,
    }
    assert summary["conflicts"] == {
        "customers.city": 1,
        "customers.state": 1,
        "products.product_name": 1,
    }
    details = {c["attribute"]: c["examples"] for c in summary["conflict_details"]}
    assert details["products.product_name"] == [
        "TEA-OOLONG-250: Oolong Tea 250 g | Oolong Tea, 250 g tin -> Oolong Tea 250 g"
    ]
    assert {"tax_total", "item_refunded", "order_total", "customer_id"} <= set(
        summary["ignored_columns"]
    )
    with (woocommerce / "raw" / "ids.csv").open(newline="", encoding="utf-8") as handle:
        ids = {(r["entity"], r["source_id"]) for r in csv.DictReader(handle)}
    # The product without a SKU keeps its WooCommerce product id; emails as first written.
    assert {("products", "311"), ("transactions", "1004")} <= ids
    assert ("customers", "siobhan.odonnell@shop.test") in ids
    with (woocommerce / "raw" / "conflicts.csv").open(newline="", encoding="utf-8") as handle:
        lineage = {(r["attribute"], r["value"], r["kept"]) for r in csv.DictReader(handle)}
    assert ("products.product_name", "Oolong Tea, 250 g tin", "Oolong Tea 250 g") in lineage
    assert ("customers.state", "New York", "New Jersey") in lineage


def test_woocommerce_export_without_a_mapped_column_is_refused(tmp_path: Path) -> None:
    export = write_woocommerce(tmp_path / "orders-export.csv")
    text = export.read_text(encoding="utf-8").replace(",item_total,", ",item_total_excl,", 1)
    export.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["import", str(export), "--preset", "woocommerce", "--out", str(tmp_path / "raw")]
    )
    assert result.exit_code != 0
    assert "column 'item_total' (mapped to line_total) is not in the export's header" in (
        result.output
    )
    assert "Traceback" not in result.output
    assert not (tmp_path / "raw" / "transaction_items.csv").exists()


def test_inspect_recognises_the_preset_formats(tmp_path: Path) -> None:
    for name, export in (
        ("woocommerce", write_woocommerce(tmp_path / "orders-export.csv")),
        ("amazon", write_amazon(tmp_path / "order_report.txt")),
    ):
        result = CliRunner().invoke(app, ["import", str(export), "--inspect"])
        assert result.exit_code == 0, result.output
        text = " ".join(result.output.split())
        assert f"preset {name}: cartwheel import {export} --preset {name}" in text
        assert text.count("built-in preset") == 1
