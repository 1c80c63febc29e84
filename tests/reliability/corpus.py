"""The hostile-input corpus: each case is the base set with one defect, an expected count
per entity worked out by hand (not by the pipeline), and the expected outcome.

`expect` gives (promoted, quarantined, duplicates removed) for the entities the defect
touches; the others keep their base counts, all promoted. `reasons` are (entity, physical
line, reason) rows that must be in quarantine; `values` are (entity, id, column) of a
promoted row and the value it must hold; `refused` is a text the one-line error of a
refused input must contain (nothing is loaded then).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from tests.reliability.base import COUNTS, HEADERS, ROWS, csv_bytes

Files = dict[str, bytes]
Counts = tuple[int, int, int]


@dataclass(frozen=True)
class Case:
    name: str
    files: Callable[[], Files]
    expect: dict[str, Counts] = field(default_factory=dict)
    reasons: frozenset[tuple[str, int, str]] = frozenset()
    values: dict[tuple[str, str, str], object] = field(default_factory=dict)
    refused: str | None = None

    def counts(self, entity: str) -> Counts:
        return self.expect.get(entity, (COUNTS[entity], 0, 0))

    def records(self, entity: str) -> int:
        """Records the file holds: every one must come out as exactly one of the three."""
        return sum(self.counts(entity))


def rows_with(entity: str, line: int, text: str) -> list[str]:
    """The base rows of `entity` with physical line `line` (header = 1) replaced."""
    rows = list(ROWS[entity])
    rows[line - 2] = text
    return rows


def field_set(entity: str, line: int, column: str, value: str) -> Files:
    """The base rows with one field of one line set to `value` (written as given)."""
    columns = HEADERS[entity].split(",")
    rows = list(ROWS[entity])
    parts = _split(rows[line - 2])
    parts[columns.index(column)] = value
    rows[line - 2] = ",".join(parts)
    return {entity: csv_bytes(entity, rows)}


def _split(row: str) -> list[str]:
    """A base row's fields, quoted ones kept quoted (the base rows quote only addresses)."""
    import csv
    import io

    fields = next(csv.reader(io.StringIO(row)))
    return [f'"{value}"' if "," in value else value for value in fields]


def _email_first() -> bytes:
    """The customers file with its email column moved to the front."""
    lines = [HEADERS[CUST].split(","), *(_split(row) for row in ROWS[CUST])]
    moved = [[line[3], *line[:3], *line[4:]] for line in lines]
    return ("\n".join(",".join(line) for line in moved) + "\n").encode()


def raw(entity: str, data: bytes) -> Callable[[], Files]:
    return lambda: {entity: data}


def with_rows(entity: str, rows: list[str], newline: str = "\n") -> Callable[[], Files]:
    return lambda: {entity: csv_bytes(entity, rows, newline)}


def setting(entity: str, line: int, column: str, value: str) -> Callable[[], Files]:
    return lambda: field_set(entity, line, column, value)


TXN, ITEMS, CUST, PROD = "transactions", "transaction_items", "customers", "products"


def item_defect(name: str, column: str, value: str, reason: str) -> Case:
    """A bad value in ITEM00004 (line 5, the only item of TXN00003): the item and its
    order are quarantined together."""
    return Case(
        name,
        setting(ITEMS, 5, column, value),
        {TXN: (4, 1, 0), ITEMS: (6, 1, 0)},
        frozenset({(ITEMS, 5, reason), (TXN, 4, "rejected_items")}),
    )


def product_defect(name: str, column: str, value: str, reason: str) -> Case:
    """A bad value in PROD0003 (line 4): the product, its item ITEM00005 and that item's
    order TXN00004 wait in quarantine."""
    return Case(
        name,
        setting(PROD, 4, column, value),
        {PROD: (3, 1, 0), TXN: (4, 1, 0), ITEMS: (6, 1, 0)},
        frozenset({(PROD, 4, reason), (ITEMS, 6, "product_rejected"), (TXN, 5, "rejected_items")}),
    )


def transaction_date_defect(name: str, value: str, reason: str) -> Case:
    """A bad date on TXN00004 (line 5): the order and its one item are quarantined."""
    return Case(
        name,
        setting(TXN, 5, "transaction_date", value),
        {TXN: (4, 1, 0), ITEMS: (6, 1, 0)},
        frozenset({(TXN, 5, reason), (ITEMS, 6, "parent_transaction_rejected")}),
    )


def registration_defect(name: str, value: str, reason: str) -> Case:
    """A bad registration date on CUST0005 (line 6): the customer and the order of theirs
    (TXN00005, two items) wait in quarantine."""
    return Case(
        name,
        setting(CUST, 6, "registration_date", value),
        {CUST: (4, 1, 0), TXN: (4, 1, 0), ITEMS: (5, 2, 0)},
        frozenset({(CUST, 6, reason), (TXN, 6, "customer_rejected")}),
    )


TOMORROW = date.today() + timedelta(days=1)
TOMORROW_PLUS_ONE = (date.today() + timedelta(days=2)).isoformat()
BIG = "x" * 12_000  # more than the ~10 kB a CSV sniffer looks ahead
ORPHAN_ORDER = 'TXN00006,CUST9999,2024-01-15,09:00:00,UPI,"6 Nowhere Ln",10.00'
ORPHAN_ITEM = "ITEM00008,TXN00006,PROD0003,1,10.00,0,10.00"


def _hostile_names() -> list[Case]:
    """Values that look like code stay data: promoted exactly as written."""
    texts = {
        "sql injection": "Robert'); DROP TABLE production.customers;--",
        "html": "<script>alert(1)</script>",
        "rich markup": "[/red][bold]Boom[/]",
        "formula": '=HYPERLINK("http://evil.example")',
        "template marker": "/*__JS__*/",
        "ansi escape": "\x1b[2JClear",
        "emoji and rtl": "Café 😀 \u202eevil",
    }
    cases = []
    for label, text in texts.items():
        quoted = '"' + text.replace('"', '""') + '"'
        cases.append(
            Case(
                f"product name: {label}",
                setting(PROD, 3, "product_name", quoted),
                values={(PROD, "PROD0002", "product_name"): text},
            )
        )
    return cases


def _structure() -> list[Case]:
    items = ROWS[ITEMS]
    return [
        Case("base set", lambda: {}),
        Case(
            "whole file CRLF",
            with_rows(ITEMS, items, "\r\n"),
            values={(ITEMS, "ITEM00007", "line_total"): 120},
        ),
        Case(
            "one CRLF line in an LF file",
            lambda: {ITEMS: csv_bytes(ITEMS).replace(b"0,49.50\n", b"0,49.50\r\n", 1)},
        ),
        Case(
            "one LF line in a CRLF file",
            lambda: {ITEMS: csv_bytes(ITEMS, newline="\r\n").replace(b"0,84.15\r\n", b"0,84.15\n")},
        ),
        Case(
            "quoted value with a newline (valid CSV)",
            setting(TXN, 3, "shipping_address", '"2 Oak St\nApt 4, Austin, TX"'),
            values={(TXN, "TXN00002", "shipping_address"): "2 Oak St\nApt 4, Austin, TX"},
        ),
        Case(
            "doubled quotes inside a quoted value",
            setting(PROD, 2, "product_name", '"Acme ""Pro"" Laptop"'),
            values={(PROD, "PROD0001", "product_name"): 'Acme "Pro" Laptop'},
        ),
        Case(
            "UTF-8 byte order mark",
            raw(CUST, b"\xef\xbb\xbf" + csv_bytes(CUST)),
            values={(CUST, "CUST0001", "email"): "siobhan.odonnell@example.com"},
        ),
        Case(
            "UTF-16 LE with BOM",
            raw(CUST, csv_bytes(CUST).decode().encode("utf-16")),
            values={(CUST, "CUST0005", "first_name"): "伟"},
        ),
        Case(
            "UTF-16 BE with BOM",
            raw(CUST, b"\xfe\xff" + csv_bytes(CUST).decode().encode("utf-16-be")),
            values={(CUST, "CUST0004", "last_name"): "García"},
        ),
        Case(
            "Windows-1252 (euro sign, curly quotes)",
            raw(
                PROD,
                csv_bytes(PROD)
                .decode()
                .replace("Cozy Sweater", "Cozy “Sweater” €")
                .encode("cp1252"),
            ),
            values={(PROD, "PROD0002", "product_name"): "Cozy “Sweater” €"},
        ),
        Case(
            "Latin-1 accents",
            raw(CUST, csv_bytes(CUST, ROWS[CUST][:4]).decode().encode("latin-1")),
            {CUST: (4, 0, 0), TXN: (4, 1, 0), ITEMS: (5, 2, 0)},
            frozenset({(TXN, 6, "orphan_customer_id")}),
            values={(CUST, "CUST0004", "last_name"): "García"},
        ),
        Case(
            "header only", with_rows(PROD, []), {PROD: (0, 0, 0), TXN: (0, 5, 0), ITEMS: (0, 7, 0)}
        ),
        Case(
            "blank lines between records",
            lambda: {ITEMS: csv_bytes(ITEMS).replace(b"\nITEM00003", b"\n\n\nITEM00003")},
        ),
        Case(
            "columns in another order",
            lambda: {
                CUST: "\n".join(
                    [
                        "email,customer_id,"
                        + ",".join(HEADERS[CUST].split(",")[1:3] + HEADERS[CUST].split(",")[4:]),
                    ]
                    + [
                        ",".join([r[3], r[0], r[1], r[2], *r[4:]])
                        for r in (_split(row) for row in ROWS[CUST])
                    ]
                ).encode()
                + b"\n"
            },
            values={(CUST, "CUST0003", "email"): "pieter.vdberg@example.com"},
        ),
        Case(
            "an unknown extra column",
            lambda: {
                PROD: (
                    "\n".join([HEADERS[PROD] + ",colour", *(row + ",red" for row in ROWS[PROD])])
                    + "\n"
                ).encode()
            },
        ),
        Case(
            "a 100 kB quoted value",
            setting(TXN, 2, "shipping_address", '"' + "1 Main St " * 10_000 + '"'),
        ),
        Case(
            "too many fields on one line",
            lambda: {ITEMS: csv_bytes(ITEMS, rows_with(ITEMS, 4, ROWS[ITEMS][2] + ",extra"))},
            {TXN: (4, 1, 0), ITEMS: (6, 1, 0)},
        ),
        Case(
            "too few fields on one line",
            lambda: {ITEMS: csv_bytes(ITEMS, rows_with(ITEMS, 5, "ITEM00004,TXN00003,PROD0001,1"))},
            {TXN: (4, 1, 0), ITEMS: (6, 1, 0)},
        ),
        Case(
            "NUL byte in a value",
            lambda: {PROD: csv_bytes(PROD).replace(b"Chef Pan", b"Chef\x00Pan")},
            {PROD: (3, 1, 0), TXN: (4, 1, 0), ITEMS: (6, 1, 0)},
        ),
        Case(
            "lone CR inside a quoted value (a line break)",
            lambda: {TXN: csv_bytes(TXN).replace(b"4 Bay Rd", b"4 Bay\rRd")},
            values={(TXN, "TXN00004", "shipping_address"): "4 Bay\nRd, Miami, FL"},
        ),
        Case(
            "unterminated quote on the last line",
            lambda: {
                ITEMS: csv_bytes(
                    ITEMS, [*items[:-1], 'ITEM00007,"TXN00005,PROD0004,1,120.00,0,120.00']
                )
            },
            {TXN: (4, 1, 0), ITEMS: (5, 2, 0)},
        ),
        Case(
            "unterminated quote followed by more than 10 kB",
            lambda: {
                CUST: csv_bytes(
                    CUST,
                    [
                        ROWS[CUST][0],
                        'CUST0002,"Angus,MacDonald,angus.macdonald@example.com,5559876543,'
                        "2023-02-11,Austin,TX,USA,36-45",
                        *ROWS[CUST][2:],
                        *(
                            f"CUST{n:04d},Pat,{BIG[:100]},pat{n}@example.com,5550000000,"
                            "2023-06-01,Reno,NV,USA,26-35"
                            for n in range(100, 220)
                        ),
                    ],
                )
            },
            {CUST: (124, 1, 0), TXN: (4, 1, 0), ITEMS: (6, 1, 0)},
            frozenset({(CUST, 3, "malformed_csv_line")}),
            {(CUST, "CUST0219", "city"): "Reno"},
        ),
    ]


def _values() -> list[Case]:
    return [
        item_defect("quantity 2.5", "quantity", "2.5", "unparseable_quantity"),
        item_defect("quantity 0x10", "quantity", "0x10", "unparseable_quantity"),
        item_defect("quantity 1e2", "quantity", "1e2", "unparseable_quantity"),
        item_defect("quantity 1_000", "quantity", "1_000", "unparseable_quantity"),
        item_defect("quantity 3.0", "quantity", "3.0", "unparseable_quantity"),
        item_defect("quantity blank", "quantity", "", "missing_quantity"),
        item_defect("quantity 0", "quantity", "0", "non_positive_quantity"),
        item_defect("quantity -1", "quantity", "-1", "non_positive_quantity"),
        item_defect("quantity 99999999999", "quantity", "99999999999", "unparseable_quantity"),
        item_defect("unit price 1_000", "unit_price", "1_000", "unparseable_unit_price"),
        item_defect("unit price 19.99999", "unit_price", "19.99999", "invalid_unit_price"),
        item_defect(
            "discount 12.555", "discount_percentage", "12.555", "invalid_discount_percentage"
        ),
        item_defect("unit price 1e3", "unit_price", "1e3", "unparseable_unit_price"),
        item_defect("unit price 0x10", "unit_price", "0x10", "unparseable_unit_price"),
        item_defect("unit price NaN", "unit_price", "NaN", "unparseable_unit_price"),
        item_defect("unit price inf", "unit_price", "inf", "unparseable_unit_price"),
        item_defect("unit price $899.99", "unit_price", "$899.99", "unparseable_unit_price"),
        item_defect("unit price 0", "unit_price", "0", "non_positive_unit_price"),
        item_defect("discount 101", "discount_percentage", "101", "discount_out_of_range"),
        item_defect("discount -5", "discount_percentage", "-5", "discount_out_of_range"),
        item_defect(
            "discount 1e1", "discount_percentage", "1e1", "unparseable_discount_percentage"
        ),
        Case(
            "quantity padded ' 1 ' (repaired)",
            setting(ITEMS, 5, "quantity", " 1 "),
            values={(ITEMS, "ITEM00004", "quantity"): 1},
        ),
        Case(
            "quantity +1 (a decimal integer)",
            setting(ITEMS, 5, "quantity", "+1"),
            values={(ITEMS, "ITEM00004", "quantity"): 1},
        ),
        Case(
            "wrong line_total (recomputed)",
            setting(ITEMS, 5, "line_total", "1.00"),
            values={(ITEMS, "ITEM00004", "line_total"): 899.99},
        ),
        product_defect("price 1_000", "price", "1_000", "unparseable_price"),
        product_defect("price 19.99999", "price", "19.99999", "invalid_price"),
        product_defect("stock 1e2", "stock_quantity", "1e2", "unparseable_stock_quantity"),
        product_defect("price -35", "price", "-35", "non_positive_price"),
        product_defect("cost above price", "cost", "50.00", "cost_not_below_price"),
        transaction_date_defect("date 2024-02-30", "2024-02-30", "unparseable_transaction_date"),
        transaction_date_defect("date epoch", "epoch", "unparseable_transaction_date"),
        transaction_date_defect("date -infinity", "-infinity", "unparseable_transaction_date"),
        transaction_date_defect("date infinity", "infinity", "unparseable_transaction_date"),
        transaction_date_defect("date 0001-01-01", "0001-01-01", "invalid_transaction_date"),
        transaction_date_defect("date 1899-12-31", "1899-12-31", "invalid_transaction_date"),
        transaction_date_defect("date 2024-1-13", "2024-1-13", "unparseable_transaction_date"),
        transaction_date_defect(
            "date with a time-zone offset",
            "2024-01-13T23:30:00+05:00",
            "unparseable_transaction_date",
        ),
        transaction_date_defect("date 13/01/2024", "13/01/2024", "unparseable_transaction_date"),
        transaction_date_defect("date in two days", TOMORROW_PLUS_ONE, "future_transaction_date"),
        Case(
            "date tomorrow (a shop a time zone ahead)",
            setting(TXN, 5, "transaction_date", TOMORROW.isoformat()),
            values={(TXN, "TXN00004", "transaction_date"): TOMORROW},
        ),
        registration_defect(
            "registration in two days", TOMORROW_PLUS_ONE, "future_registration_date"
        ),
        registration_defect("registration 0001-01-01", "0001-01-01", "invalid_registration_date"),
        registration_defect("registration epoch", "epoch", "unparseable_registration_date"),
        registration_defect("registration -infinity", "-infinity", "unparseable_registration_date"),
    ]


def _keys() -> list[Case]:
    items = ROWS[ITEMS]
    return [
        Case("exact duplicate item line", with_rows(ITEMS, [*items, items[3]]), {ITEMS: (7, 0, 1)}),
        Case(
            "exact duplicate transaction line",
            with_rows(TXN, [*ROWS[TXN], ROWS[TXN][1]]),
            {TXN: (5, 0, 1)},
        ),
        Case(
            "orphan transaction and its item",
            lambda: {
                TXN: csv_bytes(TXN, [*ROWS[TXN], ORPHAN_ORDER]),
                ITEMS: csv_bytes(ITEMS, [*items, ORPHAN_ITEM]),
            },
            {TXN: (5, 1, 0), ITEMS: (7, 1, 0)},
            frozenset({(TXN, 7, "orphan_customer_id"), (ITEMS, 9, "parent_transaction_rejected")}),
        ),
        Case(
            "item of an unknown product",
            setting(ITEMS, 8, "product_id", "PROD9999"),
            {TXN: (4, 1, 0), ITEMS: (5, 2, 0)},
            frozenset({(ITEMS, 8, "orphan_product_id"), (TXN, 6, "rejected_items")}),
        ),
        Case(
            "item of an unknown order",
            with_rows(ITEMS, [*items, "ITEM00009,TXN09999,PROD0001,1,899.99,0,899.99"]),
            {ITEMS: (7, 1, 0)},
            frozenset({(ITEMS, 9, "orphan_transaction_id")}),
        ),
        Case(
            "order without items",
            with_rows(ITEMS, [row for row in items if "TXN00004" not in row]),
            {TXN: (4, 1, 0), ITEMS: (6, 0, 0)},
            frozenset({(TXN, 5, "no_items")}),
        ),
        Case(
            "customer without email, phone or age group (optional)",
            setting(CUST, 3, "email", ""),
            values={(CUST, "CUST0002", "email"): None},
        ),
        Case(
            "unknown payment method passes unchanged",
            setting(TXN, 3, "payment_method", "Klarna"),
            values={(TXN, "TXN00002", "payment_method"): "Klarna"},
        ),
        *_hostile_names(),
    ]


def lines(header: str, rows: list[str], newline: str = "\n") -> bytes:
    """A file of `header` and `rows` as written (no contract header)."""
    return (newline.join([header, *rows]) + newline).encode()


def product_row_with(name: str) -> list[str]:
    """The products with Cozy Sweater (PROD0002, line 3) renamed `name`."""
    return [row.replace("Cozy Sweater", name) for row in ROWS[PROD]]


# PROD0002 (line 3) rejected: its items ITEM00002 and ITEM00003 (lines 3, 4) follow, and
# with them their orders TXN00001 and TXN00002, whose other item ITEM00001 goes too.
COZY_SWEATER_LOST = {PROD: (3, 1, 0), TXN: (3, 2, 0), ITEMS: (4, 3, 0)}
# CUST0004 (line 5) rejected: her order TXN00004 and its one item follow.
GARCIA_LOST = {CUST: (4, 1, 0), TXN: (4, 1, 0), ITEMS: (6, 1, 0)}


def _headers_and_encodings() -> list[Case]:
    """Headers as exports write them, and files in more than one encoding."""
    spaced = ", ".join(f"{name}  " for name in HEADERS[CUST].split(","))
    return [
        Case(
            "header only: customers",
            with_rows(CUST, []),
            {CUST: (0, 0, 0), TXN: (0, 5, 0), ITEMS: (0, 7, 0)},
            frozenset({(TXN, 2, "orphan_customer_id"), (ITEMS, 8, "parent_transaction_rejected")}),
        ),
        Case(
            "header only: items",
            with_rows(ITEMS, []),
            {ITEMS: (0, 0, 0), TXN: (0, 5, 0)},
            frozenset({(TXN, 6, "no_items")}),
        ),
        Case(
            "header only, without a line break",
            raw(ITEMS, HEADERS[ITEMS].encode()),
            {ITEMS: (0, 0, 0), TXN: (0, 5, 0)},
        ),
        Case(
            "header only, byte order mark and CRLF",
            raw(PROD, b"\xef\xbb\xbf" + (HEADERS[PROD] + "\r\n").encode()),
            {PROD: (0, 0, 0), TXN: (0, 5, 0), ITEMS: (0, 7, 0)},
        ),
        Case(
            "header only, UTF-16",
            raw(PROD, csv_bytes(PROD, []).decode().encode("utf-16")),
            {PROD: (0, 0, 0), TXN: (0, 5, 0), ITEMS: (0, 7, 0)},
        ),
        Case(
            "byte order mark and trailing spaces in the header",
            raw(CUST, b"\xef\xbb\xbf" + lines(spaced, ROWS[CUST])),
            values={(CUST, "CUST0004", "first_name"): "José María"},
        ),
        Case(
            "UTF-16 BE, CRLF, trailing spaces in the header",
            raw(CUST, b"\xfe\xff" + lines(spaced, ROWS[CUST], "\r\n").decode().encode("utf-16-be")),
            values={(CUST, "CUST0005", "last_name"): "张"},
        ),
        Case(
            "quoted header names",
            raw(PROD, lines(",".join(f'"{n}"' for n in HEADERS[PROD].split(",")), ROWS[PROD])),
            values={(PROD, "PROD0004", "price"): 120},
        ),
        Case(
            "upper-case header names",
            raw(PROD, lines(HEADERS[PROD].upper(), ROWS[PROD])),
            values={(PROD, "PROD0003", "stock_quantity"): 0},
        ),
        Case(
            "an unknown extra column named twice",
            raw(
                PROD, lines(HEADERS[PROD] + ",colour,colour", [r + ",red,blue" for r in ROWS[PROD]])
            ),
        ),
        Case(
            "a trailing comma on every line (an unnamed column)",
            raw(PROD, lines(HEADERS[PROD] + ",", [row + "," for row in ROWS[PROD]])),
            values={(PROD, "PROD0004", "supplier_id"): "SUP004"},
        ),
        Case(
            "line breaks as lone CR (an old Mac export)",
            with_rows(ITEMS, ROWS[ITEMS], "\r"),
            values={(ITEMS, "ITEM00007", "line_total"): 120},
        ),
        Case(
            "Windows-1252 with lone CR line breaks",
            raw(
                PROD,
                csv_bytes(PROD, product_row_with("Cozy “Sweater” €"), "\r")
                .decode("utf-8")
                .encode("cp1252"),
            ),
            values={(PROD, "PROD0002", "product_name"): "Cozy “Sweater” €"},
        ),
        Case(
            "one Windows-1252 line in a UTF-8 file",
            raw(CUST, csv_bytes(CUST).replace("García".encode(), "García".encode("cp1252"))),
            GARCIA_LOST,
            frozenset({(CUST, 5, "invalid_encoding")}),
        ),
        Case(
            "one UTF-8 line in a Windows-1252 file (read as UTF-8)",
            raw(
                PROD,
                csv_bytes(PROD, product_row_with("Cozy “Sweater”"))
                .decode()
                .encode("cp1252")
                .replace(b"Chef Pan", "Chef Pan für zwei".encode()),
            ),
            COZY_SWEATER_LOST,
            frozenset({(PROD, 3, "invalid_encoding")}),
            values={(PROD, "PROD0003", "product_name"): "Chef Pan für zwei"},
        ),
        Case(
            "encoded surrogate bytes in a UTF-8 file",
            raw(CUST, csv_bytes(CUST).replace("García".encode(), b"Garc\xed\xa0\x80a")),
            GARCIA_LOST,
            frozenset({(CUST, 5, "invalid_encoding")}),
        ),
        Case(
            "a UTF-8 line appended to a UTF-16 file",
            raw(
                CUST,
                csv_bytes(CUST, ROWS[CUST][:4]).decode().encode("utf-16")
                + ROWS[CUST][4].encode()
                + b"\n",
            ),
            {CUST: (4, 1, 0), TXN: (4, 1, 0), ITEMS: (5, 2, 0)},
            # Read as UTF-16, the line's bytes are other characters, and no commas.
            frozenset({(CUST, 6, "wrong_column_count"), (TXN, 6, "orphan_customer_id")}),
        ),
    ]


def _hostile_lines() -> list[Case]:
    items = ROWS[ITEMS]
    return [
        Case(
            "a 10 MB line",
            lambda: {PROD: csv_bytes(PROD, product_row_with("y" * 10_000_000))},
            COZY_SWEATER_LOST,
            frozenset({(PROD, 3, "line_too_long"), (ITEMS, 2, "parent_transaction_rejected")}),
        ),
        Case(
            "a 10 MB quoted value",
            lambda: {PROD: csv_bytes(PROD, product_row_with('"' + "y" * 10_000_000 + '"'))},
            COZY_SWEATER_LOST,
            frozenset({(PROD, 3, "line_too_long")}),
        ),
        Case(
            "a 10 MB line of commas",
            with_rows(PROD, [ROWS[PROD][0], "," * 10_000_000, *ROWS[PROD][1:]]),
            {PROD: (4, 1, 0)},
            frozenset({(PROD, 3, "line_too_long")}),
        ),
        Case(
            "1,000 extra fields on one line",
            with_rows(ITEMS, [*items[:6], items[6] + ",x" * 1000]),
            {TXN: (4, 1, 0), ITEMS: (5, 2, 0)},
            frozenset({(ITEMS, 8, "wrong_column_count"), (TXN, 6, "rejected_items")}),
        ),
        Case(
            "a line of spaces",
            lambda: {ITEMS: csv_bytes(ITEMS).replace(b"\nITEM00003", b"\n   \nITEM00003")},
            {ITEMS: (7, 1, 0)},
            frozenset({(ITEMS, 4, "wrong_column_count")}),
            values={(ITEMS, "ITEM00003", "line_total"): 84.15},
        ),
        Case(
            "the header again mid-file (two exports joined)",
            raw(ITEMS, csv_bytes(ITEMS, items[:3]) + csv_bytes(ITEMS, items[3:])),
            {ITEMS: (7, 1, 0)},
            frozenset({(ITEMS, 5, "unparseable_quantity")}),
            values={(ITEMS, "ITEM00004", "quantity"): 1},
        ),
        Case(
            "a quote inside an unquoted value",
            with_rows(PROD, product_row_with('Skillet 12" Pro')),
            values={(PROD, "PROD0002", "product_name"): 'Skillet 12" Pro'},
        ),
        Case(
            "quotes escaped with a backslash",
            with_rows(PROD, product_row_with('"Cozy \\"Warm\\" Sweater"')),
            COZY_SWEATER_LOST,
            frozenset({(PROD, 3, "malformed_csv_line")}),
        ),
        Case(
            "a non-breaking space after a key",
            lambda: {ITEMS: csv_bytes(ITEMS).replace(b",TXN00001,", ",TXN00001\u00a0,".encode())},
            values={(ITEMS, "ITEM00002", "transaction_id"): "TXN00001"},
        ),
        Case(
            "a zero-width space inside a key",
            lambda: {ITEMS: csv_bytes(ITEMS).replace(b",TXN00002,", ",TXN\u200b00002,".encode())},
            {TXN: (4, 1, 0), ITEMS: (6, 1, 0)},
            frozenset({(ITEMS, 4, "orphan_transaction_id"), (TXN, 3, "no_items")}),
        ),
    ]


def separated_by(separator: str) -> bytes:
    """The products file as a spreadsheet writes it with another field separator."""
    return lines(
        HEADERS[PROD].replace(",", separator), [r.replace(",", separator) for r in ROWS[PROD]]
    )


def _refused() -> list[Case]:
    return [
        Case("zero-byte file", raw(PROD, b""), {PROD: (0, 0, 0), TXN: (0, 5, 0), ITEMS: (0, 7, 0)}),
        Case(
            "binary garbage instead of CSV",
            raw(PROD, bytes(range(256)) * 64),
            refused="products",
        ),
        Case(
            "header without a mandatory column",
            lambda: {
                ITEMS: (
                    "\n".join(
                        [
                            HEADERS[ITEMS].replace(",quantity", ""),
                            *(",".join(r.split(",")[:3] + r.split(",")[4:]) for r in ROWS[ITEMS]),
                        ]
                    )
                    + "\n"
                ).encode()
            },
            refused="no 'quantity' column in the header",
        ),
        Case(
            "a contract column named twice in the header",
            raw(
                CUST,
                lines(HEADERS[CUST] + ",email", [r + ",other@example.com" for r in ROWS[CUST]]),
            ),
            refused="the header names 'email' more than once (columns 4, 11)",
        ),
        *(
            Case(
                f"{name}-separated file",
                raw(PROD, separated_by(separator)),
                refused=f"this file separates them with {name}s",
            )
            for name, separator in (("tab", "\t"), ("semicolon", ";"))
        ),
    ]


CASES: list[Case] = [
    *_structure(),
    *_headers_and_encodings(),
    *_hostile_lines(),
    *_values(),
    *_keys(),
    *_refused(),
]
