"""`cartwheel import`: a shop's order-line export becomes the four raw files, and the
warehouse built from them has the export's own revenue to the cent."""

from __future__ import annotations

import csv
import json
import random
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cartwheel.cli import app
from cartwheel.importing import (
    ImportInputError,
    MappingError,
    import_export,
    load_mapping,
    load_preset,
)
from cartwheel.importing.mapping import Source
from tests.conftest import run_cli

# The header of Shopify's orders export, in its order.
SHOPIFY_HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,"
    "Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,"
    "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,"
    "Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,"
    "Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,"
    "Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,"
    "Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,"
    "Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,"
    "Payment Method,Payment Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,"
    "Location,Device ID,Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,"
    "Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,Tax 4 Name,Tax 4 Value,Tax 5 Name,"
    "Tax 5 Value,Phone,Receipt Number,Duties,Billing Province Name,Shipping Province Name,"
    "Payment ID,Payment Terms Name,Next Payment Due At,Payment References"
).split(",")

# (order name, created at, email, billing name, street, city, province, country, phone,
#  payment method, lines: (quantity, name, price, sku, vendor, line discount))
ORDERS = [
    (
        "#1001",
        "2024-03-05 10:15:00 -0500",
        "ana@example.com",
        "José Álvarez",
        "12 Rua Augusta",
        "Porto",
        "13",
        "PT",
        "+351 912 345 678",
        "Shopify Payments",
        [
            (2, "Classic T-Shirt", "25.00", "TSHIRT-1", "Acme Apparel", "5.00"),
            (1, "Coffee Mug, Large", "12.50", "MUG-1", "HomeGoods", "0.00"),
        ],
    ),
    (
        "#1002",
        "2024-03-06 14:30:00 -0500",
        "bob@example.com",
        "Björn Ørsted",
        "Storgatan 1",
        "Malmö",
        "M",
        "SE",
        "",
        "PayPal Express Checkout",
        [(1, "Wireless Headphones", "199.99", "HEADPHONES-1", "SoundCo", "20.00")],
    ),
    (
        "#1003",
        "2024-03-10 09:05:00 -0400",
        "ANA@example.com",
        "José Álvarez",
        "Av. da Liberdade 5",
        "Lisboa",
        "11",
        "PT",
        "+351 912 345 678",
        "Shopify Payments",
        [
            (3, "Classic Tee (Organic)", "27.00", "TSHIRT-1", "Acme Apparel", "8.10"),
            (1, "Datos, Ciencia y Más", "18.00", "BOOK-1", 'Libros "El Sol"', "0.00"),
        ],
    ),
    (
        "#1004",
        "2024-03-12 18:45:10 -0400",
        "carol@example.com",
        "Chloé Dubois",
        "1 Rue Sainte-Catherine",
        "Montréal",
        "QC",
        "CA",
        "(514) 555-0199",
        "manual",
        [
            (1, "Wireless Headphones", "199.99", "HEADPHONES-1", "SoundCo", "33.33"),
            (1, "Gift Wrap", "3.00", "", "HomeGoods", "0.00"),
            (7, "Yoga Mat Pro", "1234.56", "YOGA-1", "FitLife", "123.45"),
        ],
    ),
    (
        "#1005",
        "2024-03-15 11:00:00 -0400",
        "dave@example.com",
        "Dave O'Neil",
        "5 Main St",
        "Austin",
        "TX",
        "US",
        "+1 512-555-0100",
        "Cash on Delivery (COD)",
        [
            (4, "Coffee Mug, Large", "12.50", "MUG-1", "HomeGoods", "12.50"),
            (1, "Free Sticker", "0.00", "STICKER-1", "HomeGoods", "0.00"),
        ],
    ),
    (
        "#1006",
        "2024-03-20 08:00:00 -0400",
        "bob@example.com",
        "Björn Ørsted",
        "Storgatan 1",
        "Malmö",
        "M",
        "SE",
        "",
        "Shopify Payments",
        [
            (1, "Coffee Mug, Large", "12.50", "MUG-1", "HomeGoods", "0.00"),
            (1, "Datos, Ciencia y Más", "18.00", "BOOK-1", 'Libros "El Sol"', "0.00"),
        ],
    ),
]
# An order-level discount code that Shopify does not show in Lineitem discount (only in
# Discount Amount and Subtotal).
ORDER_DISCOUNTS = {"#1006": Decimal("1.00")}
CATEGORY_MAP = {
    "Acme Apparel": "Clothing",
    "SoundCo": "Electronics",
    "FitLife": "Sports",
    'Libros "El Sol"': "Books",
    "HomeGoods": "Home & Kitchen",
}


def _net(line: tuple) -> Decimal:
    quantity, _, price, _, _, discount = line
    return quantity * Decimal(price) - Decimal(discount)


def _subtotal(order: tuple) -> Decimal:
    return sum(_net(line) for line in order[-1]) - ORDER_DISCOUNTS.get(order[0], 0)


EXPORT_NET = sum(_subtotal(order) for order in ORDERS)


def write_shopify_export(path: Path) -> Path:
    """Shopify's layout: order, billing and shipping fields only on an order's first line."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=SHOPIFY_HEADER)
        writer.writeheader()
        for (
            name,
            created,
            email,
            billing,
            street,
            city,
            province,
            country,
            phone,
            pay,
            lines,
        ) in ORDERS:
            subtotal = _subtotal((name, lines))
            order_discount = sum(Decimal(x[5]) for x in lines) + ORDER_DISCOUNTS.get(name, 0)
            for position, (qty, item, price, sku, vendor, discount) in enumerate(lines):
                row = {key: "" for key in SHOPIFY_HEADER}
                row.update(
                    {
                        "Name": name,
                        "Email": email,
                        "Created at": created,
                        "Lineitem quantity": qty,
                        "Lineitem name": item,
                        "Lineitem price": price,
                        "Lineitem sku": sku,
                        "Vendor": vendor,
                        "Lineitem discount": discount,
                        "Lineitem requires shipping": "true",
                        "Lineitem taxable": "true",
                        "Lineitem fulfillment status": "pending",
                    }
                )
                if position == 0:
                    row.update(
                        {
                            "Financial Status": "paid",
                            "Currency": "EUR",
                            "Subtotal": f"{subtotal:.2f}",
                            "Shipping": "5.00",
                            "Taxes": "1.00",
                            "Total": f"{subtotal + 6:.2f}",
                            "Billing Name": billing,
                            "Billing Street": street,
                            "Billing Address1": street,
                            "Billing City": city,
                            "Billing Province": province,
                            "Billing Country": country,
                            "Billing Phone": phone,
                            "Shipping Name": billing,
                            "Shipping Street": street,
                            "Shipping City": city,
                            "Shipping Province": province,
                            "Shipping Country": country,
                            "Payment Method": pay,
                            "Discount Amount": f"{order_discount:.2f}",
                        }
                    )
                writer.writerow(row)
    return path


def shopify_mapping():
    """The built-in preset plus the shop's own choice: categories from its vendors."""
    preset = load_preset("shopify")
    columns = {**preset.columns, "category": Source(("Vendor",))}
    return type(preset)(**{**preset.__dict__, "columns": columns, "categories": CATEGORY_MAP})


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shopify")
    export = write_shopify_export(root / "orders_export.csv")
    import_export(export, shopify_mapping(), root / "raw")
    return root / "raw"


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_four_contract_files_with_ids_by_date(imported: Path) -> None:
    transactions = read(imported / "transactions.csv")
    items = read(imported / "transaction_items.csv")
    assert [t["transaction_id"] for t in transactions] == [f"TXN0000{i}" for i in range(1, 7)]
    assert len(items) == 12 and items[0]["item_id"] == "ITEM00001"
    customers = read(imported / "customers.csv")
    assert [c["email"] for c in customers] == [
        "ana@example.com",
        "bob@example.com",
        "carol@example.com",
        "dave@example.com",
    ]
    assert [c["customer_id"] for c in customers] == ["CUST0001", "CUST0002", "CUST0003", "CUST0004"]
    products = read(imported / "products.csv")
    assert len(products) == 7  # TSHIRT, MUG, HEADPHONES, BOOK, Gift Wrap (no sku), YOGA, STICKER
    # The shop's own ids stay traceable in ids.csv (not in the contract files).
    ids = {(r["entity"], r["id"]): r["source_id"] for r in read(imported / "ids.csv")}
    assert ids[("transactions", "TXN00003")] == "#1003"
    assert ids[("customers", "CUST0001")] == "ana@example.com"
    assert ids[("products", "PROD0004")] == "BOOK-1"
    for entity in ("customers", "products", "transactions", "transaction_items"):
        with (imported / f"{entity}.csv").open() as handle:
            assert "source" not in handle.readline()


def test_conflicts_resolved_by_latest_order(imported: Path) -> None:
    customers = {c["email"]: c for c in read(imported / "customers.csv")}
    ana = customers["ana@example.com"]  # two orders, two addresses: the latest one wins
    assert (ana["city"], ana["first_name"], ana["last_name"]) == ("Lisboa", "José", "Álvarez")
    assert ana["registration_date"] == ""  # not in the export: unknown, never invented
    products = {p["product_name"]: p for p in read(imported / "products.csv")}
    assert "Classic Tee (Organic)" in products and "Classic T-Shirt" not in products
    assert products["Classic Tee (Organic)"]["price"] == "27.00"
    assert products["Classic Tee (Organic)"]["category"] == "Clothing"
    assert products["Datos, Ciencia y Más"]["brand"] == 'Libros "El Sol"'
    summary = json.loads((imported / "import_summary.json").read_text())
    assert summary["conflicts"]["products.product_name"] == 1
    assert summary["conflicts"]["products.price"] == 1
    assert summary["conflicts"]["customers.city"] == 1
    # No cost in the export and no cost ratio asked for: cost (and profit) unknown.
    assert {p["cost"] for p in products.values()} == {""}
    assert "cost" in summary["unknown_fields"] and "age_group" in summary["unknown_fields"]
    details = {c["attribute"]: c["examples"] for c in summary["conflict_details"]}
    assert details["products.product_name"] == [
        "TSHIRT-1: Classic T-Shirt | Classic Tee (Organic) -> Classic Tee (Organic)"
    ]
    assert details["customers.city"] == ["ana@example.com: Lisboa | Porto -> Lisboa"]


def test_pipeline_revenue_equals_the_export_to_the_cent(imported: Path, tmp_path: Path) -> None:
    run_cli("run", "--input", str(imported), "--data-dir", str(tmp_path))
    con = duckdb.connect(str(tmp_path / "cartwheel.duckdb"), read_only=True)
    try:
        revenue, rows = con.execute(
            "select sum(line_total), count(*) from warehouse.fact_sales"
        ).fetchall()[0]
        quarantined = con.execute("select count(*) from ops.quarantine").fetchall()[0][0]
        daily = con.execute("select sum(total_revenue) from warehouse.agg_daily_sales").fetchall()
        names = con.execute(
            "select first_name, city from production.customers order by customer_id"
        ).fetchall()
    finally:
        con.close()
    assert Decimal("9083.52") == EXPORT_NET
    assert Decimal(revenue) == EXPORT_NET and Decimal(daily[0][0]) == EXPORT_NET
    assert rows == 12 and quarantined == 0
    assert names[0] == ("José", "Lisboa") and names[1][1] == "Malmö"
    summary = json.loads((imported / "import_summary.json").read_text())
    # The export's own totals, from its raw values: lines, and order subtotals (#1006's
    # order discount of 1.00 is only in its Subtotal).
    assert Decimal(summary["export_net_total"]) == EXPORT_NET + ORDER_DISCOUNTS["#1006"]
    assert Decimal(summary["export_subtotal_total"]) == EXPORT_NET
    assert summary["subtotal_mismatches"] == 0
    items = read(imported / "transaction_items.csv")
    # Lines keep the export's unit price, with the discount nearest the real one ...
    assert (items[0]["unit_price"], items[0]["discount_percentage"]) == ("25.0000", "10.00")
    # ... also 199.99 with 33.33 off (16.67 % gives 166.65, within 0.01 of the 166.66 kept).
    assert (items[5]["unit_price"], items[5]["discount_percentage"]) == ("199.9900", "16.67")
    assert items[5]["line_total"] == "166.6600"
    assert items[9]["line_total"] == "0.0000" and items[9]["discount_percentage"] == "100.00"
    # #1006's order discount (1.00) spread over its lines in proportion, whole cents.
    assert [i["line_total"] for i in items[10:]] == ["12.0900", "17.4100"]
    assert summary["order_discounts_spread"] == 1


def test_every_line_written_exactly(tmp_path: Path) -> None:
    """Random big and small lines: the pipeline's own line_total formula lands within 0.01
    of each export line, which it then keeps exactly (a line whose exported unit price
    cannot get there gets an adjusted one; they are counted)."""
    rng = random.Random(7)
    export = tmp_path / "lines.csv"
    expected = []
    with export.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order", "day", "email", "sku", "qty", "price", "off"])
        for n in range(3000):
            qty, cents = rng.randint(1, 12), rng.randint(1, 300_000)
            off = rng.randint(0, qty * cents)
            expected.append(qty * cents - off)
            writer.writerow(
                [
                    f"o{n // 2}",
                    "2024-05-01",
                    "x@example.com",
                    f"s{n % 50}",
                    qty,
                    f"{cents / 100:.2f}",
                    f"{off / 100:.2f}",
                ]
            )
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "columns: {transaction_id: order, transaction_date: day, customer_id: email,\n"
        "  email: email, product_id: sku, quantity: qty, unit_price: price, discount: 'off'}\n"
    )
    result = import_export(export, load_mapping(mapping), tmp_path / "raw")
    check = (
        duckdb.connect()
        .execute(
            "select count(*) filter (where abs(round(quantity * unit_price * (100 - "
            "discount_percentage) * 0.01, 2) - line_total) > 0.01), sum(line_total), "
            "count(*) filter (where discount_percentage not between 0 and 100 or unit_price <= 0),"
            " count(*) filter (where i.unit_price <> e.price) "
            "from read_csv(?, types = {'quantity': 'integer', 'unit_price': 'decimal(12,4)', "
            "'discount_percentage': 'decimal(5,2)', 'line_total': 'decimal(14,4)'}) as i "
            "join read_csv(?) as ids on ids.entity = 'transaction_items' and ids.id = i.item_id "
            "join (select row_number() over () as n, price from read_csv(?, "
            "types = {'price': 'decimal(12,4)'})) as e on e.n = ids.source_record",
            [str(tmp_path / "raw" / name) for name in ("transaction_items.csv", "ids.csv")]
            + [str(export)],
        )
        .fetchall()[0]
    )
    assert check[0] == 0 and check[2] == 0
    assert Decimal(check[1]) == Decimal(sum(expected)) / 100
    assert result.adjusted_unit_prices == check[3]


def test_percentage_after_discount_mapping_and_defaults(tmp_path: Path) -> None:
    export = tmp_path / "e.csv"
    export.write_text(
        "Order;Date;Time;Mail;Item;Qty;Paid;Pct;Kind\n"
        "A-2;05/02/2024;13:00;z@shop.test;P1;2;45,00;10;beauty\n"
        "A-1;04/02/2024;09:30;z@shop.test;P1;1;18.00;10;Beauty\n".replace("45,00", "45.00"),
        encoding="utf-8",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {transaction_id: Order, transaction_date: Date, transaction_time: Time,\n"
        "  customer_id: Mail, email: Mail, product_id: Item, quantity: Qty,\n"
        "  unit_price: Paid, discount: Pct, category: Kind}\n"
        "options: {discount: percentage, price: after_discount, date_format: '%d/%m/%Y',\n"
        "  time_format: '%H:%M', cost_ratio: 0.5}\n"
    )
    import_export(export, load_mapping(mapping), tmp_path / "raw")
    items = read(tmp_path / "raw" / "transaction_items.csv")
    assert [i["line_total"] for i in items] == ["18.0000", "90.0000"]  # A-1 (4 Feb) first
    assert [i["discount_percentage"] for i in items] == ["10.00", "10.00"]
    assert [i["unit_price"] for i in items] == ["20.0000", "50.0000"]  # before the 10 % off
    (product,) = read(tmp_path / "raw" / "products.csv")
    # The cost ratio was asked for explicitly; the category keeps the latest spelling.
    assert (product["category"], product["price"], product["cost"]) == ("beauty", "50.00", "25.00")
    assert product["stock_quantity"] == ""  # not in the export: unknown
    (customer,) = read(tmp_path / "raw" / "customers.csv")
    assert customer["age_group"] == ""
    transactions = read(tmp_path / "raw" / "transactions.csv")
    assert [(t["transaction_date"], t["transaction_time"]) for t in transactions] == [
        ("2024-02-04", "09:30:00"),
        ("2024-02-05", "13:00:00"),
    ]


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_bad_input_gives_one_line_errors(tmp_path: Path) -> None:
    export = write_shopify_export(tmp_path / "orders.csv")
    out = str(tmp_path / "raw")
    # A mapped column missing from the header: named, exit 2, no traceback.
    text = export.read_text(encoding="utf-8").replace("Lineitem sku", "SKU", 1)
    broken = tmp_path / "renamed.csv"
    broken.write_text(text, encoding="utf-8")
    result = invoke("import", str(broken), "--preset", "shopify", "--out", out)
    assert result.exit_code == 2
    assert "'Lineitem sku'" in result.output and "renamed.csv" in result.output
    assert "Traceback" not in result.output
    # No such file / not a CSV / a date that does not match the format.
    missing = invoke("import", str(tmp_path / "nope.csv"), "--preset", "shopify", "--out", out)
    assert missing.exit_code == 2 and "nope.csv: export file not found" in missing.output
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 40)
    garbage = invoke("import", str(binary), "--preset", "shopify", "--out", out)
    assert garbage.exit_code == 2 and "binary.csv" in garbage.output
    bad_date = tmp_path / "bad_date.csv"
    bad_date.write_text(
        text.replace("SKU", "Lineitem sku").replace(
            "2024-03-06 14:30:00 -0500", "06/03/2024 14:30"
        ),
        encoding="utf-8",
    )
    dated = invoke("import", str(bad_date), "--preset", "shopify", "--out", out)
    assert dated.exit_code == 2 and "'Created at'" in dated.output and "06/03/2024" in dated.output
    # A discount larger than its line is caught, not written as a negative line.
    over = tmp_path / "over.csv"
    over.write_text(
        text.replace("SKU", "Lineitem sku").replace(",33.33,", ",333.33,"), encoding="utf-8"
    )
    refused = invoke("import", str(over), "--preset", "shopify", "--out", out)
    assert refused.exit_code == 2 and "discount exceeds the line" in refused.output
    assert not (tmp_path / "raw").exists()
    assert invoke("import", str(export), "--out", out).exit_code == 2  # no mapping given


def test_mapping_errors_name_the_key(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns: {transaction_id: a}\n")
    with pytest.raises(MappingError, match="columns must map customer_id"):
        load_mapping(mapping)
    mapping.write_text(
        "columns: {transaction_id: a, customer_id: b, product_id: c, quantity: d,\n"
        "  unit_price: e, transaction_date: f}\ndefaults: {category: Shoes}\n"
    )
    with pytest.raises(MappingError, match="'defaults:' is gone"):
        load_mapping(mapping)
    mapping.write_text(
        "columns: {transaction_id: a, customer_id: b, product_id: c, quantity: d,\n"
        "  line_total: e, transaction_date: f, line_profit: g}\noptions: {cost_ratio: 0.6}\n"
    )
    with pytest.raises(MappingError, match="one cost source, not line_profit and cost_ratio"):
        load_mapping(mapping)
    result = invoke("import", "x.csv", "--preset", "nosuch", "--out", str(tmp_path))
    assert result.exit_code == 2 and "unknown preset 'nosuch'" in result.output


def test_order_discount_not_spread_is_reported(tmp_path: Path) -> None:
    """Without order_discount: to_subtotal, the order discount missing from the lines
    shows up as a subtotal mismatch (and the lines keep their own amounts)."""
    export = write_shopify_export(tmp_path / "orders.csv")
    mapping = type(load_preset("shopify"))(
        **{**shopify_mapping().__dict__, "order_discount": "none"}
    )
    result = import_export(export, mapping, tmp_path / "raw")
    assert result.subtotal_mismatches == 1 and result.order_discounts_spread == 0
    assert Decimal(result.written_total) == EXPORT_NET + ORDER_DISCOUNTS["#1006"]
    assert any("do not add up to the export's subtotal" in w for w in result.warnings())
    # The preset maps no category (Shopify's export has none): unknown, never a default.
    plain = import_export(export, load_preset("shopify"), tmp_path / "plain")
    assert "category" in plain.unknown_fields
    assert {p["category"] for p in read(tmp_path / "plain" / "products.csv")} == {""}


def test_windows_1252_export_with_encoding_option(tmp_path: Path) -> None:
    export = tmp_path / "excel.csv"
    export.write_bytes(
        "Order,Mail,Day,Sku,Qty,Price,Name\r\n"
        "1,z@shop.test,2024-02-04,P1,1,9.99,Zoë Ärger\r\n".encode("cp1252")
    )
    mapping = tmp_path / "m.yaml"
    base = (
        "columns: {transaction_id: Order, customer_id: Mail, email: Mail, product_id: Sku,\n"
        "  transaction_date: Day, quantity: Qty, unit_price: Price, full_name: Name}\n"
    )
    mapping.write_text(base)
    with pytest.raises(ImportInputError, match="not UTF-8"):
        import_export(export, load_mapping(mapping), tmp_path / "raw")
    mapping.write_text(base + "options: {encoding: latin-1}\n")
    import_export(export, load_mapping(mapping), tmp_path / "raw")
    (customer,) = read(tmp_path / "raw" / "customers.csv")
    assert (customer["first_name"], customer["last_name"]) == ("Zoë", "Ärger")


def test_shared_email_and_ids_as_written(tmp_path: Path) -> None:
    """Two customers with one email: the one whose latest order is the most recent keeps
    it, the other gets none, and it is reported. The shop's ids stay byte for byte."""
    export = tmp_path / "e.csv"
    export.write_text(
        "Order,Day,Customer,Mail,Sku,Qty,Sales\n"
        "ord-1001 ,2024-02-01,cg-125,family@example.com,sku-a1,1,10.50\n"
        "ORD-1002,2024-02-03,MacDonald-7,family@example.com,sku-a1,2,21.00\n"
        "ORD-1003,2024-02-02,cg-125,family@example.com,Sku-B2,1,3.3333\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {transaction_id: Order, transaction_date: Day, customer_id: Customer,\n"
        "  email: Mail, product_id: Sku, quantity: Qty, line_total: Sales}\n"
    )
    result = import_export(export, load_mapping(mapping), tmp_path / "raw")
    customers = {c["customer_id"]: c["email"] for c in read(tmp_path / "raw" / "customers.csv")}
    assert customers == {"CUST0001": "", "CUST0002": "family@example.com"}
    (shared,) = [c for c in result.conflict_details if c.attribute == "customers.shared_email"]
    assert shared.keys == 1
    assert shared.examples == ["family@example.com: MacDonald-7 | cg-125 -> MacDonald-7"]
    ids = [(r["entity"], r["source_id"]) for r in read(tmp_path / "raw" / "ids.csv")]
    assert ("transactions", "ord-1001 ") in ids and ("products", "Sku-B2") in ids
    assert ("customers", "MacDonald-7") in ids
    assert Decimal(result.export_net_total) == Decimal("34.8333") == Decimal(result.written_total)


def test_inspect_proposes_a_mapping_and_writes_it(tmp_path: Path) -> None:
    export = write_shopify_export(tmp_path / "orders.csv")
    saved = tmp_path / "proposal.yaml"
    result = invoke("import", str(export), "--inspect", "--write-mapping", str(saved))
    assert result.exit_code == 0, result.output
    assert "header: Name, Email, Financial Status" in result.output
    # The Shopify header is recognised as the built-in preset's.
    assert f"preset shopify: cartwheel import {export} --preset shopify" in " ".join(
        result.output.split()
    )
    proposal = load_mapping(saved)
    assert proposal.columns["transaction_id"].columns == ("Name",)
    assert proposal.columns["unit_price"].columns == ("Lineitem price",)
    assert proposal.columns["shipping_state"].columns == ("Shipping Province",)
    assert proposal.datetime_format == ("%Y-%m-%d %H:%M:%S %z",)
    # What the proposal cannot find is listed: a file with only an order id and a date.
    bare = tmp_path / "bare.csv"
    bare.write_text("Order ID,Order Date\nA-1,2024-01-02\n", encoding="utf-8")
    lacking = invoke("import", str(bare), "--inspect")
    assert "missing (map these by hand): customer_id, product_id, quantity" in lacking.output
    assert "built-in preset" not in lacking.output


def test_order_fields_from_the_first_line_that_has_them(tmp_path: Path) -> None:
    """An order field blank on the order's first line comes from the next line that has it
    (customer key included); lines of one order that disagree are reported, the first
    line's value kept."""
    export = tmp_path / "e.csv"
    export.write_text(
        "Order,Day,Customer,Pay,Ship State,Sku,Qty,Sales\n"
        "W-1,2024-02-01,,,Oregon,mug,1,10.00\n"
        "W-1,2024-02-01,O'Donnell-3,PayPal,Oregon,tea,2,8.00\n"
        "W-2,2024-02-02,MacDonald-7,Card,New York,mug,1,10.00\n"
        "W-2,2024-02-02,MacDonald-7,Card,New Jersey,tea,1,4.00\n"
        "W-2,2024-02-02,MacDonald-7,,New York,tea,1,4.00\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {transaction_id: Order, transaction_date: Day, customer_id: Customer,\n"
        "  payment_method: Pay, shipping_state: Ship State, product_id: Sku, quantity: Qty,\n"
        "  line_total: Sales}\n"
    )
    result = import_export(export, load_mapping(mapping), tmp_path / "raw")
    transactions = read(tmp_path / "raw" / "transactions.csv")
    assert [(t["payment_method"], t["shipping_state"]) for t in transactions] == [
        ("PayPal", "Oregon"),
        ("Card", "New York"),
    ]
    assert result.orders_without_customer == 0
    ids = {(r["entity"], r["source_id"]) for r in read(tmp_path / "raw" / "ids.csv")}
    assert ("customers", "O'Donnell-3") in ids
    assert result.conflicts == {"orders.shipping_state": 1}
    (differs,) = result.conflict_details
    assert differs.examples == ["W-2: kept New York"]


@pytest.mark.parametrize(
    ("qty", "sales", "cost", "message"),
    [
        ("2", "12,50", "3.00", "1 value(s) in 'Sales' not a number (first: '12,50' at record 2)"),
        (
            "1.5",
            "12.50",
            "3.00",
            "1 value(s) in 'Qty' not a whole number (first: '1.5' at record 2)",
        ),
        ("0", "12.50", "3.00", "1 value(s) in 'Qty' below 1 (first: '0' at record 2)"),
        ("2", "-12.50", "3.00", "1 value(s) in 'Sales' negative (first: '-12.50' at record 2)"),
        ("2", "12.50", "n/a", "1 value(s) in 'Unit cost' not a number (first: 'n/a' at record 2)"),
    ],
)
def test_a_bad_amount_is_named_with_its_record(
    tmp_path: Path, qty: str, sales: str, cost: str, message: str
) -> None:
    export = tmp_path / "e.csv"
    export.write_text(
        "Order,Day,Customer,Sku,Qty,Sales,Unit cost\n"
        "A-1,2024-02-01,van der Berg,mug,1,10.00,3.00\n"
        f'A-2,2024-02-02,van der Berg,mug,{qty},"{sales}",{cost}\n',
        encoding="utf-8",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {transaction_id: Order, transaction_date: Day, customer_id: Customer,\n"
        "  product_id: Sku, quantity: Qty, line_total: Sales, cost: Unit cost}\n"
    )
    with pytest.raises(ImportInputError) as caught:
        import_export(export, load_mapping(mapping), tmp_path / "raw")
    assert str(caught.value) == f"{export}: {message}"
    assert not (tmp_path / "raw").exists()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            ",2024-02-01,MacDonald-7,mug,1,10.00\nA-1,2024-02-01,MacDonald-7,tea,1,4.00\n",
            "1 row(s) before the first order id in 'Order' (first: record 1)",
        ),
        (
            "A-1,2024-02-01,MacDonald-7,mug,1,10.00\n,2024-02-01,MacDonald-7,,1,4.00\n",
            "1 row(s) without a value in 'Sku' (first: record 2)",
        ),
        (
            "A-1,2024-02-01,MacDonald-7,mug,,10.00\n",
            "1 row(s) without a value in 'Qty' (first: record 1)",
        ),
    ],
)
def test_a_line_without_its_keys_is_named(tmp_path: Path, rows: str, message: str) -> None:
    export = tmp_path / "e.csv"
    export.write_text("Order,Day,Customer,Sku,Qty,Sales\n" + rows, encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {transaction_id: Order, transaction_date: Day, customer_id: Customer,\n"
        "  product_id: Sku, quantity: Qty, line_total: Sales}\n"
    )
    with pytest.raises(ImportInputError) as caught:
        import_export(export, load_mapping(mapping), tmp_path / "raw")
    assert str(caught.value) == f"{export}: {message}"


@pytest.mark.parametrize(
    ("formula_quote", "phone"), [(True, "+44 20 7946 0958"), (False, "'+44 20 7946 0958")]
)
def test_formula_quote_is_not_part_of_the_value(
    tmp_path: Path, formula_quote: bool, phone: str
) -> None:
    """An export that writes `'+44 …` so a spreadsheet shows the text, not a formula: with
    options.formula_quote the quote goes; a name such as `'Ohana` keeps its apostrophe."""
    export = tmp_path / "e.csv"
    export.write_text(
        "Order,Day,Customer,Name,Phone,Sku,Qty,Sales\n"
        "A-1,2024-02-01,ohana@shop.test,'Ohana O'Donnell,'+44 20 7946 0958,mug,1,10.00\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {transaction_id: Order, transaction_date: Day, customer_id: Customer,\n"
        "  full_name: Name, phone: Phone, product_id: Sku, quantity: Qty, line_total: Sales}\n"
        f"options: {{formula_quote: {str(formula_quote).lower()}}}\n"
    )
    import_export(export, load_mapping(mapping), tmp_path / "raw")
    (customer,) = read(tmp_path / "raw" / "customers.csv")
    assert (customer["first_name"], customer["last_name"], customer["phone"]) == (
        "'Ohana",
        "O'Donnell",
        phone,
    )


def test_formula_quote_option_must_be_a_flag(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {transaction_id: a, transaction_date: b, customer_id: c, product_id: d,\n"
        "  quantity: e, line_total: f}\noptions: {formula_quote: strip}\n"
    )
    with pytest.raises(MappingError, match="options.formula_quote must be true or false"):
        load_mapping(mapping)
