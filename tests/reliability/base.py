"""The small valid base set every reliability case starts from, written by hand so every
count is known: 5 customers, 4 products, 5 transactions, 7 items (lines = 1 + position)."""

from __future__ import annotations

from pathlib import Path

from cartwheel.contract import OPTIONAL_COLUMNS, RAW_COLUMNS

# The contract's columns without the optional ones, in order (a case adds those itself).
HEADERS = {
    entity: ",".join(c for c in columns if c not in OPTIONAL_COLUMNS.get(entity, ()))
    for entity, columns in RAW_COLUMNS.items()
}
ROWS = {
    "customers": [
        "CUST0001,Siobhan,O'Donnell,siobhan.odonnell@example.com,5551234567,2023-01-05,"
        "Boston,MA,USA,26-35",
        "CUST0002,Angus,MacDonald,angus.macdonald@example.com,5559876543,2023-02-11,"
        "Austin,TX,USA,36-45",
        "CUST0003,Pieter,van der Berg,pieter.vdberg@example.com,5550001111,2023-03-20,"
        "Denver,CO,USA,46-60",
        "CUST0004,José María,García,jose.garcia@example.com,,2023-04-01,Miami,FL,USA,60+",
        "CUST0005,伟,张,zhang.wei@example.com,5552223333,2023-05-09,Seattle,WA,USA,18-25",
    ],
    "products": [
        "PROD0001,Acme Laptop,Electronics,Laptops,899.99,650.00,Acme,12,SUP001",
        "PROD0002,Cozy Sweater,Clothing,Tops,49.50,20.25,Cozy,40,SUP002",
        "PROD0003,Chef Pan,Home & Kitchen,Cookware,35.00,12.00,Chef,0,SUP003",
        "PROD0004,Trail Shoes,Sports,Footwear,120.00,70.00,Trail,8,SUP004",
    ],
    "transactions": [
        'TXN00001,CUST0001,2024-01-10,10:15:00,Credit Card,"1 Main St, Boston, MA",949.49',
        'TXN00002,CUST0002,2024-01-11,11:00:30,UPI,"2 Oak St, Austin, TX",84.15',
        'TXN00003,CUST0003,2024-01-12,23:59:59,Cash on Delivery,"3 Elm St, Denver, CO",899.99',
        'TXN00004,CUST0004,2024-01-13,08:00:00,Net Banking,"4 Bay Rd, Miami, FL",70.00',
        'TXN00005,CUST0005,2024-01-14,12:30:00,Debit Card,"5 Pine St, Seattle, WA",240.00',
    ],
    "transaction_items": [
        "ITEM00001,TXN00001,PROD0001,1,899.99,0,899.99",
        "ITEM00002,TXN00001,PROD0002,1,49.50,0,49.50",
        "ITEM00003,TXN00002,PROD0002,2,49.50,15,84.15",
        "ITEM00004,TXN00003,PROD0001,1,899.99,0,899.99",
        "ITEM00005,TXN00004,PROD0003,2,35.00,0,70.00",
        "ITEM00006,TXN00005,PROD0004,1,120.00,0,120.00",
        "ITEM00007,TXN00005,PROD0004,1,120.00,0,120.00",
    ],
}
COUNTS = {entity: len(rows) for entity, rows in ROWS.items()}


def csv_bytes(entity: str, rows: list[str] | None = None, newline: str = "\n") -> bytes:
    """One raw file: the header and `rows` (default: the base rows), UTF-8."""
    lines = [HEADERS[entity], *(ROWS[entity] if rows is None else rows)]
    return (newline.join(lines) + newline).encode()


def write_base(folder: Path, files: dict[str, bytes] | None = None) -> Path:
    """The base set in `folder`, with any entity's bytes replaced by `files`."""
    folder.mkdir(parents=True, exist_ok=True)
    for entity in ROWS:
        data = (files or {}).get(entity)
        (folder / f"{entity}.csv").write_bytes(csv_bytes(entity) if data is None else data)
    return folder


def write_days(folder: Path) -> Path:
    """The base set as three daily batches: day one brings the catalogue, the customers and
    two orders; day two two more orders and a changed address (an SCD2 version); day
    three the last order."""
    txns, items = ROWS["transactions"], ROWS["transaction_items"]
    moved = ROWS["customers"][1].replace("Austin,TX", "Dallas,TX")
    days = {
        "2024-01-12": {"transactions": txns[:2], "transaction_items": items[:3]},
        "2024-01-13": {
            "customers": [moved],
            "products": [],
            "transactions": txns[2:4],
            "transaction_items": items[3:5],
        },
        "2024-01-14": {
            "customers": [],
            "products": [],
            "transactions": txns[4:],
            "transaction_items": items[5:],
        },
    }
    for day, rows in days.items():
        write_base(folder / day, {entity: csv_bytes(entity, r) for entity, r in rows.items()})
    return folder
