"""Malformed inputs: every row is accounted for, bad rows land in quarantine with a
reason and their raw text, and nothing raises a traceback.

Each case starts from the same small clean batch (written here, so every count is known),
breaks it in one way, loads and checks it, and asserts for every entity:
`rows in = promoted + quarantined + duplicates removed`, with the exact rows expected in
quarantine (entity, physical line, reason) and the exact promoted counts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cartwheel.engines.duckdb import DuckDBEngine
from cartwheel.errors import SourceError
from cartwheel.ingest import ingest
from cartwheel.ingest.raw_files import InputError
from cartwheel.quality.report import run_quality

HEADERS = {
    "customers": "customer_id,first_name,last_name,email,phone,registration_date,city,state,"
    "country,age_group",
    "products": "product_id,product_name,category,sub_category,price,cost,brand,"
    "stock_quantity,supplier_id",
    "transactions": "transaction_id,customer_id,transaction_date,transaction_time,"
    "payment_method,shipping_address,total_amount",
    "transaction_items": "item_id,transaction_id,product_id,quantity,unit_price,"
    "discount_percentage,line_total",
}
CLEAN = {
    "customers": [
        "CUST0001,Ana,Silva,ana.silva1@example.com,5551234567,2023-01-05,Austin,TX,USA,26-35",
        "CUST0002,Ben,Okafor,ben.okafor2@example.com,5559876543,2023-02-11,Boston,MA,USA,36-45",
        "CUST0003,Chen,Wei,chen.wei3@example.com,5550001111,2023-03-20,Denver,CO,USA,18-25",
        "CUST0004,Dora,Lind,dora.lind4@example.com,,2023-04-01,Miami,FL,USA,60+",
    ],
    "products": [
        "PROD0001,Acme Laptop 1,Electronics,Laptops,899.99,650.00,Acme,12,SUP001",
        "PROD0002,Cozy Sweater 2,Clothing,Tops,49.50,20.25,Cozy,40,SUP002",
        "PROD0003,Chef Pan 3,Home & Kitchen,Cookware,35.00,12.00,Chef,0,SUP003",
    ],
    "transactions": [
        'TXN00001,CUST0001,2024-01-10,10:15:00,Credit Card,"1 Main St, Austin, TX",949.49',
        'TXN00002,CUST0002,2024-01-11,11:00:30,UPI,"2 Oak St, Boston, MA",84.15',
        'TXN00003,CUST0003,2024-01-12,23:59:59,Cash on Delivery,"3 Elm St, Denver, CO",899.99',
        'TXN00004,CUST0001,2024-01-13,08:00:00,Net Banking,"1 Main St, Austin, TX",70.00',
    ],
    "transaction_items": [
        "ITEM00001,TXN00001,PROD0001,1,899.99,0,899.99",
        "ITEM00002,TXN00001,PROD0002,1,49.50,0,49.50",
        "ITEM00003,TXN00002,PROD0002,2,49.50,15,84.15",
        "ITEM00004,TXN00003,PROD0001,1,899.99,0,899.99",
        "ITEM00005,TXN00004,PROD0003,2,35.00,0,70.00",
    ],
}
ENTITY_ROWS = {entity: len(rows) for entity, rows in CLEAN.items()}
# Which items belong to which transaction (line numbers are 1 + position, header = 1).
ITEM_LINES_OF = {"TXN00001": [2, 3], "TXN00002": [4], "TXN00003": [5], "TXN00004": [6]}


def write_batch(folder: Path, lines: dict[str, list[str]] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for entity, rows in (lines or CLEAN).items():
        text = "\n".join([HEADERS[entity], *rows]) + "\n"
        (folder / f"{entity}.csv").write_bytes(text.encode())
    return folder


@dataclass
class Outcome:
    staged: dict[str, int]
    quarantine: set[tuple[str, int, str]]  # entity, source line, reason
    raw: dict[tuple[str, int], str]
    conservation: dict[str, dict]
    promoted: dict[str, int]
    engine: DuckDBEngine
    report: dict = field(default_factory=dict)


def load(folder: Path, db: Path | None = None) -> Outcome:
    """Ingest and check one batch; the quality gate is off (we look at every row)."""
    engine = DuckDBEngine(":memory:" if db is None else str(db))
    loads = ingest(engine, folder, batch_id=folder.name, run_id="test")
    outcome = run_quality(engine, "test", min_score=0.0, input_dir=folder)
    rows = engine.query("select entity, source_line, reason, raw_content from ops.quarantine")
    return Outcome(
        staged={load.table: load.rows_loaded for load in loads},
        quarantine={(e, int(line), reason) for e, line, reason, _ in rows},
        raw={(e, int(line)): raw for e, line, _, raw in rows},
        conservation={row["entity"]: row for row in outcome.conservation},
        promoted={
            entity: engine.count(f"staging.{entity}_validated")
            and int(
                engine.scalar(
                    f"select count(*) from staging.{entity}_validated "
                    "where disposition = 'promoted'"
                )
            )
            for entity in CLEAN
        },
        engine=engine,
        report=outcome.report,
    )


def assert_accounted(outcome: Outcome, rows_in: dict[str, int]) -> None:
    """Conservation holds for every entity, and rows in is what the file holds."""
    for entity, row in outcome.conservation.items():
        assert row["balanced"], row
        assert row["rows_in"] == rows_in[entity], (entity, row)
        assert row["rows_promoted"] == outcome.promoted[entity]


def mutate(entity: str, change: Callable[[list[str]], list[str]]) -> dict[str, list[str]]:
    lines = {e: list(rows) for e, rows in CLEAN.items()}
    lines[entity] = change(lines[entity])
    return lines


def replace_line(index: int, text: str) -> Callable[[list[str]], list[str]]:
    def change(rows: list[str]) -> list[str]:
        rows[index] = text
        return rows

    return change


def whole_order(txn: str, txn_line: int, reason: str) -> set[tuple[str, int, str]]:
    """An order held back: the transaction with `reason`, its items following it."""
    held = {("transactions", txn_line, reason)}
    return held | {
        ("transaction_items", line, "parent_transaction_rejected") for line in ITEM_LINES_OF[txn]
    }


@dataclass
class Case:
    name: str
    lines: dict[str, list[str]]
    rows_in: dict[str, int]
    quarantined: set[tuple[str, int, str]]
    duplicates: dict[str, int] = field(default_factory=dict)


def n(**changes: int) -> dict[str, int]:
    return {**ENTITY_ROWS, **changes}


ROW_CASES = [
    Case("clean", CLEAN, n(), set()),
    Case(
        "too many columns",
        mutate("customers", replace_line(1, CLEAN["customers"][1] + ",extra")),
        n(),
        {("customers", 3, "wrong_column_count")} | whole_order("TXN00002", 3, "customer_rejected"),
    ),
    Case(
        "too few columns",
        mutate("products", replace_line(2, "PROD0003,Chef Pan 3,Home & Kitchen")),
        n(),
        {("products", 4, "wrong_column_count")}
        | whole_order("TXN00004", 5, "rejected_items")
        - {("transaction_items", 6, "parent_transaction_rejected")}
        | {("transaction_items", 6, "product_rejected")},
    ),
    Case(
        "unterminated quote keeps the lines after it",
        mutate(
            "transactions",
            replace_line(1, 'TXN00002,CUST0002,2024-01-11,11:00:30,UPI,"2 Oak St, Boston,84.15'),
        ),
        n(),
        {("transactions", 3, "malformed_csv_line")}
        | {("transaction_items", 4, "parent_transaction_rejected")},
    ),
    Case(
        "stray quote inside a quoted field",
        mutate(
            "transactions",
            replace_line(3, 'TXN00004,CUST0001,2024-01-13,08:00:00,UPI,"1 "Main" St",70.00'),
        ),
        n(),
        {("transactions", 5, "malformed_csv_line")}
        | {("transaction_items", 6, "parent_transaction_rejected")},
    ),
    Case(
        "unparseable quantity holds back the whole order",
        mutate("transaction_items", replace_line(1, "ITEM00002,TXN00001,PROD0002,two,49.50,0,99")),
        n(),
        {
            ("transaction_items", 3, "unparseable_quantity"),
            ("transaction_items", 2, "parent_transaction_rejected"),
            ("transactions", 2, "rejected_items"),
        },
    ),
    Case(
        "unparseable date",
        mutate(
            "customers",
            replace_line(
                2,
                "CUST0003,Chen,Wei,chen.wei3@example.com,5550001111,2023-02-30,Denver,CO,USA,18-25",
            ),
        ),
        n(),
        {("customers", 4, "unparseable_registration_date")}
        | whole_order("TXN00003", 4, "customer_rejected"),
    ),
    Case(
        "unparseable price",
        mutate(
            "products",
            replace_line(1, "PROD0002,Cozy Sweater 2,Clothing,Tops,$49.50,20.25,Cozy,40,SUP002"),
        ),
        n(),
        {("products", 3, "unparseable_price")}
        | {
            ("transaction_items", 3, "product_rejected"),
            ("transaction_items", 4, "product_rejected"),
        }
        | whole_order("TXN00001", 2, "rejected_items")
        - {("transaction_items", 3, "parent_transaction_rejected")}
        | whole_order("TXN00002", 3, "rejected_items")
        - {("transaction_items", 4, "parent_transaction_rejected")},
    ),
    Case(
        "missing mandatory value",
        mutate(
            "customers",
            replace_line(3, "CUST0004,,Lind,dora.lind4@example.com,,2023-04-01,Miami,FL,USA,60+"),
        ),
        n(),
        {("customers", 5, "missing_first_name")},
    ),
    Case(
        "blank optional values are valid",
        mutate(
            "customers",
            replace_line(3, "CUST0004,Dora,Lind,,,,,,,"),
        ),
        n(),
        set(),
    ),
    Case(
        "malformed email",
        mutate(
            "customers",
            replace_line(
                3, "CUST0004,Dora,Lind,dora.lind4 at example.com,,2023-04-01,Miami,FL,USA,60+"
            ),
        ),
        n(),
        {("customers", 5, "invalid_email")},
    ),
    Case(
        "malformed phone (letters)",
        mutate(
            "customers",
            replace_line(
                3, "CUST0004,Dora,Lind,dora.lind4@example.com,call me,2023-04-01,Miami,FL,USA,60+"
            ),
        ),
        n(),
        {("customers", 5, "invalid_phone")},
    ),
    Case(
        "future date",
        mutate(
            "transactions",
            replace_line(
                2,
                'TXN00003,CUST0003,2124-01-12,23:59:59,Cash on Delivery,"3 Elm St",899.99',
            ),
        ),
        n(),
        whole_order("TXN00003", 4, "future_transaction_date"),
    ),
    Case(
        "non-positive quantity",
        mutate("transaction_items", replace_line(3, "ITEM00004,TXN00003,PROD0001,0,899.99,0,0")),
        n(),
        {("transaction_items", 5, "non_positive_quantity"), ("transactions", 4, "rejected_items")},
    ),
    Case(
        "discount out of range",
        mutate(
            "transaction_items", replace_line(4, "ITEM00005,TXN00004,PROD0003,2,35.00,150,70.00")
        ),
        n(),
        {("transaction_items", 6, "discount_out_of_range"), ("transactions", 5, "rejected_items")},
    ),
    Case(
        "cost above price",
        mutate(
            "products",
            replace_line(
                2, "PROD0003,Chef Pan 3,Home & Kitchen,Cookware,35.00,135.00,Chef,0,SUP003"
            ),
        ),
        n(),
        {
            ("products", 4, "cost_not_below_price"),
            ("transaction_items", 6, "product_rejected"),
            ("transactions", 5, "rejected_items"),
        },
    ),
    Case(
        "orphan customer",
        mutate(
            "transactions",
            replace_line(3, 'TXN00004,CUST0999,2024-01-13,08:00:00,Net Banking,"1 Main St",70.00'),
        ),
        n(),
        whole_order("TXN00004", 5, "orphan_customer_id"),
    ),
    Case(
        "orphan product",
        mutate("transaction_items", replace_line(3, "ITEM00004,TXN00003,PROD0999,1,899.99,0,1")),
        n(),
        {("transaction_items", 5, "orphan_product_id"), ("transactions", 4, "rejected_items")},
    ),
    Case(
        "orphan item (no such transaction)",
        mutate("transaction_items", lambda rows: [*rows, "ITEM00006,TXN09999,PROD0001,1,1,0,1"]),
        n(transaction_items=6),
        {("transaction_items", 7, "orphan_transaction_id")},
    ),
    Case(
        "transaction without items",
        mutate(
            "transactions",
            lambda rows: [*rows, 'TXN00005,CUST0002,2024-01-14,09:00:00,UPI,"x",0.00'],
        ),
        n(transactions=5),
        {("transactions", 6, "no_items")},
    ),
    Case(
        "transaction before registration",
        mutate(
            "transactions",
            replace_line(1, 'TXN00002,CUST0002,2022-01-11,11:00:30,UPI,"2 Oak St",84.15'),
        ),
        n(),
        whole_order("TXN00002", 3, "transaction_before_registration"),
    ),
    Case(
        "exact duplicate row is removed, first one kept",
        mutate("customers", lambda rows: [rows[0], rows[0], *rows[1:]]),
        n(customers=5),
        set(),
        {"customers": 1},
    ),
    Case(
        "duplicate item id with other content: latest wins",
        mutate(
            "transaction_items",
            lambda rows: [*rows, "ITEM00005,TXN00004,PROD0003,2,35.00,0,70.01"],
        ),
        n(transaction_items=6),
        set(),
        {"transaction_items": 1},
    ),
    Case(
        "whitespace-only line",
        mutate("customers", lambda rows: [rows[0], "   ", *rows[1:]]),
        n(customers=5),
        {("customers", 3, "wrong_column_count")},
    ),
    Case(
        "line of bare commas",
        mutate("products", lambda rows: [*rows, ",,,,,,,,"]),
        n(products=4),
        {("products", 5, "missing_product_id")},
    ),
    Case(
        "a shop's own payment method is valid",
        mutate(
            "transactions",
            replace_line(1, 'TXN00002,CUST0002,2024-01-11,11:00:30,Barter,"2 Oak St",84.15'),
        ),
        n(),
        set(),
    ),
    Case(
        "invalid time of day",
        mutate(
            "transactions",
            replace_line(1, 'TXN00002,CUST0002,2024-01-11,25:00:30,UPI,"2 Oak St",84.15'),
        ),
        n(),
        whole_order("TXN00002", 3, "invalid_transaction_time"),
    ),
    Case(
        "email already taken by another customer",
        mutate(
            "customers",
            replace_line(
                3, "CUST0004,Dora,Lind,ana.silva1@example.com,,2023-04-01,Miami,FL,USA,60+"
            ),
        ),
        n(),
        {("customers", 5, "duplicate_email")},
    ),
]


@pytest.mark.parametrize("case", ROW_CASES, ids=[c.name for c in ROW_CASES])
def test_row_level_defects_are_quarantined_and_accounted_for(tmp_path: Path, case: Case) -> None:
    outcome = load(write_batch(tmp_path / "batch", case.lines))
    assert outcome.quarantine == case.quarantined
    assert_accounted(outcome, case.rows_in)
    for entity, row in outcome.conservation.items():
        assert row["duplicates_removed"] == case.duplicates.get(entity, 0), entity
    for (entity, line), raw in outcome.raw.items():
        assert raw, (entity, line)  # the raw text is kept for every quarantined row


def test_a_later_version_in_the_batch_wins_and_an_id_on_one_row_is_its_latest(
    tmp_path: Path,
) -> None:
    # Only ids on several rows are ranked; the others are their own latest version.
    lines = {entity: list(rows) for entity, rows in CLEAN.items()}
    lines["customers"] += [
        "CUST0002,Ben,Okafor,ben.okafor@example.org,5559876543,2023-02-11,Chicago,IL,USA,36-45",
        CLEAN["customers"][0],  # an exact copy of CUST0001: removed as a duplicate
    ]
    lines["products"].append("PROD0002,Cozy Sweater 2,Clothing,Tops,54.00,20.25,Cozy,38,SUP002")
    outcome = load(write_batch(tmp_path / "batch", lines))
    ranks = "select {key}, source_line, disposition, version_rank from staging.{entity}_validated"
    customers = outcome.engine.query(
        ranks.format(key="customer_id", entity="customers") + " order by 1, 2"
    )
    assert customers == [
        ("CUST0001", 2, "promoted", 1),
        ("CUST0001", 7, "duplicate", None),
        ("CUST0002", 3, "promoted", 2),
        ("CUST0002", 6, "promoted", 1),
        ("CUST0003", 4, "promoted", 1),
        ("CUST0004", 5, "promoted", 1),
    ]
    products = outcome.engine.query(
        ranks.format(key="product_id", entity="products") + " order by 1, 2"
    )
    assert products == [
        ("PROD0001", 2, "promoted", 1),
        ("PROD0002", 3, "promoted", 2),
        ("PROD0002", 5, "promoted", 1),
        ("PROD0003", 4, "promoted", 1),
    ]


def test_unterminated_quote_quarantines_only_its_line(tmp_path: Path) -> None:
    lines = mutate(
        "transactions",
        replace_line(1, 'TXN00002,CUST0002,2024-01-11,11:00:30,UPI,"2 Oak St, Boston,84.15'),
    )
    outcome = load(write_batch(tmp_path / "b", lines))
    assert outcome.raw[("transactions", 3)] == lines["transactions"][1]
    lines_of = dict(
        outcome.engine.query("select transaction_id, source_line from staging.transactions")
    )
    assert lines_of == {"TXN00001": 2, "TXN00003": 4, "TXN00004": 5}


def test_quoted_newlines_crlf_and_blank_lines_keep_physical_line_numbers(tmp_path: Path) -> None:
    folder = write_batch(tmp_path / "b")
    rows = [
        CLEAN["transactions"][0],
        'TXN00002,CUST0002,2024-01-11,11:00:30,UPI,"2 Oak St\r\nFloor 2\r\nBoston",84.15',
        "",
        CLEAN["transactions"][2],
        "TXN00004,CUST0001,2024-01-13,08:00:00,Net Banking,x,70.00,extra",
    ]
    text = "\r\n".join([HEADERS["transactions"], *rows]) + "\r\n"
    (folder / "transactions.csv").write_bytes(text.encode())
    outcome = load(folder)
    lines_of = dict(
        outcome.engine.query("select transaction_id, source_line from staging.transactions")
    )
    # TXN00002 spans lines 3-5; line 6 is empty; TXN00003 is on line 7.
    assert lines_of == {"TXN00001": 2, "TXN00002": 3, "TXN00003": 7}
    assert ("transactions", 8, "wrong_column_count") in outcome.quarantine
    address = outcome.engine.scalar(
        "select shipping_address from staging.transactions where transaction_id = 'TXN00002'"
    )
    assert address == "2 Oak St\r\nFloor 2\r\nBoston"
    assert_accounted(outcome, n())


@pytest.mark.parametrize(
    ("name", "encode"),
    [
        ("utf-8 with byte-order mark", lambda text: text.encode("utf-8-sig")),
        ("utf-16", lambda text: text.encode("utf-16")),
        ("latin-1", lambda text: text.encode("latin-1")),
        ("crlf", lambda text: text.replace("\n", "\r\n").encode()),
        ("no newline at the end", lambda text: text.rstrip("\n").encode()),
    ],
)
def test_encodings_and_line_endings_load_every_row(tmp_path: Path, name: str, encode) -> None:
    folder = write_batch(tmp_path / "b")
    rows = [row.replace("Ana,Silva", "Ána,Sílva") for row in CLEAN["customers"]]
    text = "\n".join([HEADERS["customers"], *rows]) + "\n"
    (folder / "customers.csv").write_bytes(encode(text))
    outcome = load(folder)
    assert outcome.quarantine == set(), name
    assert_accounted(outcome, n())
    first = outcome.engine.query(
        "select first_name, last_name, source_line from staging.customers_validated "
        "where customer_id = 'CUST0001'"
    )
    assert first == [("Ána", "Sílva", 2)]


def test_invalid_utf8_byte_quarantines_only_that_row(tmp_path: Path) -> None:
    folder = write_batch(tmp_path / "b")
    rows = [row.encode() for row in CLEAN["customers"]]
    rows[0] = rows[0].replace(b"Ana", "Ána".encode())  # valid UTF-8 elsewhere in the file
    rows[2] = rows[2].replace(b"Chen", b"Ch\xe9n")  # one Latin-1 byte: not UTF-8
    (folder / "customers.csv").write_bytes(
        b"\n".join([HEADERS["customers"].encode(), *rows]) + b"\n"
    )
    outcome = load(folder)
    assert ("customers", 4, "invalid_encoding") in outcome.quarantine
    assert_accounted(outcome, n())


@pytest.mark.parametrize(
    ("name", "header", "expect_phone"),
    [
        ("missing optional column", HEADERS["customers"].replace(",phone", ""), None),
        ("extra column", HEADERS["customers"] + ",loyalty_tier", "5551234567"),
        (
            "columns in another order, upper case",
            "EMAIL,Customer_ID,first_name,last_name,phone,registration_date,city,state,"
            "country,age_group",
            "5551234567",
        ),
    ],
)
def test_columns_are_matched_by_header_name(
    tmp_path: Path, name: str, header: str, expect_phone: str | None
) -> None:
    folder = write_batch(tmp_path / "b")
    source = list(
        csv.DictReader(io.StringIO("\n".join([HEADERS["customers"], *CLEAN["customers"]])))
    )
    names = [h.strip().lower() for h in header.split(",")]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header.split(","))
    for row in source:
        writer.writerow([row.get(column, "gold") for column in names])
    (folder / "customers.csv").write_text(out.getvalue())
    outcome = load(folder)
    assert outcome.quarantine == set(), name
    assert_accounted(outcome, n())
    phone = outcome.engine.scalar(
        "select phone from staging.customers_validated where customer_id = 'CUST0001'"
    )
    assert phone == expect_phone


def test_missing_optional_column_loads_as_null(tmp_path: Path) -> None:
    folder = write_batch(tmp_path / "b")
    header = HEADERS["customers"].replace(",email", "")
    rows = [",".join(r.split(",")[:3] + r.split(",")[4:]) for r in CLEAN["customers"]]
    (folder / "customers.csv").write_text("\n".join([header, *rows]) + "\n")
    outcome = load(folder)
    assert outcome.quarantine == set()
    assert outcome.promoted == n()
    emails = outcome.engine.query("select distinct email from staging.customers_validated")
    assert emails == [(None,)]
    assert_accounted(outcome, n())


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", None])
def test_empty_file_loads_nothing_and_orphans_are_held(tmp_path: Path, content) -> None:
    folder = write_batch(tmp_path / "b")
    path = folder / "customers.csv"
    path.write_bytes(content if content is not None else (HEADERS["customers"] + "\n").encode())
    outcome = load(folder)
    assert outcome.staged["customers"] == 0
    reasons = {reason for entity, _, reason in outcome.quarantine if entity == "transactions"}
    assert reasons == {"orphan_customer_id"}
    assert outcome.promoted["transactions"] == 0
    assert_accounted(outcome, n(customers=0))


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        (
            "key column missing",
            lambda p: p.write_text("first_name,last_name\nAna,Silva\n"),
            "no 'customer_id' column in the header",
        ),
        ("a folder, not a file", lambda p: p.mkdir(), "is a folder, not a file"),
        (
            "binary content",
            lambda p: p.write_bytes(b"\x00\x01\x02customer_id\x00" * 50),
            "binary content",
        ),
    ],
)
def test_unreadable_file_fails_with_one_line_naming_it(
    tmp_path: Path, name: str, make, message: str
) -> None:
    folder = write_batch(tmp_path / "b")
    path = folder / "customers.csv"
    path.unlink()
    make(path)
    engine = DuckDBEngine(str(tmp_path / "db.duckdb"))
    with pytest.raises(InputError) as caught:
        ingest(engine, folder, batch_id="b")
    text = str(caught.value)
    assert "\n" not in text and str(path) in text and message in text, name
    assert isinstance(caught.value.__cause__, SourceError)


def test_unreadable_file_stops_the_cli_with_exit_1_and_no_traceback(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cartwheel.cli import app

    folder = write_batch(tmp_path / "b")
    (folder / "products.csv").unlink()
    (folder / "products.csv").mkdir()
    result = CliRunner().invoke(
        app, ["run", "--input", str(folder), "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "products.csv: is a folder, not a file" in result.output.replace("\n", " ")


def test_parquet_columns_by_name_any_types(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = write_batch(tmp_path / "b")
    (folder / "transaction_items.csv").unlink()
    columns = list(zip(*(row.split(",") for row in CLEAN["transaction_items"]), strict=True))
    table = pa.table(
        {
            # Other order, typed columns, upper-case names.
            "QUANTITY": pa.array([int(v) for v in columns[3]], pa.int32()),
            "item_id": columns[0],
            "transaction_id": columns[1],
            "product_id": columns[2],
            "unit_price": pa.array([float(v) for v in columns[4]]),
            "discount_percentage": pa.array([int(v) for v in columns[5]], pa.int64()),
            "Line_Total": pa.array([float(v) for v in columns[6]]),
        }
    )
    pq.write_table(table, folder / "transaction_items.parquet")
    outcome = load(folder)
    assert outcome.quarantine == set()
    assert_accounted(outcome, n())
    lines = outcome.engine.query(
        "select item_id, quantity, source_line from staging.transaction_items order by 1"
    )
    assert lines[0] == ("ITEM00001", "1", 2)


def test_missing_mandatory_column_fails_with_one_line(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = write_batch(tmp_path / "b")
    (folder / "transaction_items.csv").unlink()
    columns = list(zip(*(row.split(",") for row in CLEAN["transaction_items"]), strict=True))
    names = HEADERS["transaction_items"].split(",")
    table = pa.table({name: columns[i] for i, name in enumerate(names) if name != "line_total"})
    pq.write_table(table, folder / "transaction_items.parquet")
    with pytest.raises(InputError) as caught:
        load(folder)
    assert str(caught.value) == (
        f"{folder / 'transaction_items.parquet'}: no 'line_total' column in the header, and "
        "every row needs one (found item_id, transaction_id, product_id, quantity, unit_price, "
        "discount_percentage)"
    )


def test_corrupt_parquet_fails_with_one_line(tmp_path: Path) -> None:
    folder = write_batch(tmp_path / "b")
    (folder / "products.csv").unlink()
    (folder / "products.parquet").write_bytes(b"PAR1 this is not parquet at all")
    engine = DuckDBEngine(":memory:")
    with pytest.raises(InputError) as caught:
        ingest(engine, folder, batch_id="b")
    assert "\n" not in str(caught.value)
    assert str(folder / "products.parquet") in str(caught.value)


def test_overlong_line_is_quarantined_and_the_next_line_keeps_its_number(tmp_path: Path) -> None:
    huge = "x" * 3_000_000  # beyond the reader's 2 MB line limit
    lines = mutate(
        "customers",
        replace_line(1, f"CUST0002,Ben,{huge},ben.okafor2@example.com,,2023-02-11,B,MA,USA,36-45"),
    )
    outcome = load(write_batch(tmp_path / "b", lines))
    assert ("customers", 3, "line_too_long") in outcome.quarantine
    lines_of = dict(outcome.engine.query("select customer_id, source_line from staging.customers"))
    assert lines_of == {"CUST0001": 2, "CUST0003": 4, "CUST0004": 5}
    assert_accounted(outcome, n())


def test_a_staging_table_from_before_the_ship_to_columns_gains_them(tmp_path: Path) -> None:
    db = tmp_path / "shop.duckdb"
    older = DuckDBEngine(str(db))
    older.execute("create schema staging")
    older.execute(
        "create table staging.transactions (transaction_id varchar, customer_id varchar, "
        "transaction_date varchar, transaction_time varchar, payment_method varchar, "
        "shipping_address varchar, total_amount varchar, loaded_at timestamp with time zone, "
        "batch_id varchar, source_file varchar, source_line bigint)"
    )
    older.execute(
        "insert into staging.transactions values ('TXN09999', 'CUST0001', '2023-12-30', "
        "'09:00:00', 'UPI', '9 Quay St, Galway', '10.00', now(), 'older', 'old.csv', 2)"
    )
    older.close()
    folder = write_batch(tmp_path / "b")
    shipped = [HEADERS["transactions"] + ",shipping_city"] + [
        row + ",Galway" for row in CLEAN["transactions"]
    ]
    (folder / "transactions.csv").write_text("\n".join(shipped) + "\n")
    outcome = load(folder, db=db)
    assert outcome.staged["transactions"] == 4
    columns = outcome.engine.columns("staging.transactions")
    assert columns[-4:] == [
        "shipping_city",
        "shipping_state",
        "shipping_postal_code",
        "shipping_country",
    ]
    rows = outcome.engine.query(
        "select batch_id, count(*), count(shipping_city) from staging.transactions "
        "group by batch_id order by batch_id"
    )
    assert rows == [("b", 4, 4), ("older", 1, 0)]
