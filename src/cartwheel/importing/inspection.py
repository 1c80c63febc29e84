"""`cartwheel import FILE --inspect`: the export's header, a proposed mapping (columns
matched by name, then by their sample values) and what the proposal still lacks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from cartwheel.importing.mapping import REQUIRED, Mapping, load_preset, preset_names

# Header names (compared without case, spaces, dashes or underscores) per field, best first.
NAMES: dict[str, tuple[str, ...]] = {
    "transaction_id": ("orderid", "ordernumber", "order", "name", "receiptid", "saleid"),
    "customer_id": ("customerid", "customer", "buyerid", "buyer", "customeremail", "email"),
    "email": ("email", "customeremail", "buyeremail", "billingemail"),
    "full_name": ("customername", "buyername", "billingname", "fullname", "shiptoname"),
    "first_name": ("firstname", "billingfirstname"),
    "last_name": ("lastname", "billinglastname"),
    "phone": ("phone", "billingphone", "buyerphonenumber"),
    "city": ("city", "billingcity"),
    "state": ("state", "billingprovince", "billingstate", "province", "region"),
    "country": ("country", "billingcountry"),
    "transaction_datetime": ("createdat", "orderdatetime", "purchasedate", "orderdate"),
    "transaction_date": ("date", "saledate", "orderdate"),
    "payment_method": ("paymentmethod", "paymenttype", "gateway"),
    "shipping_city": ("shipcity", "shippingcity"),
    "shipping_state": ("shipstate", "shippingprovince", "shippingstate"),
    "shipping_postal_code": ("shippostalcode", "shipzipcode", "shippingzip", "postalcode", "zip"),
    "shipping_country": ("shipcountry", "shippingcountry"),
    "product_id": ("productid", "sku", "lineitemsku", "itemsku", "asin", "listingid"),
    "product_name": ("productname", "itemname", "lineitemname", "title", "product"),
    "quantity": ("quantity", "qty", "quantitypurchased", "lineitemquantity"),
    "unit_price": ("unitprice", "price", "itemprice", "lineitemprice"),
    "discount": ("discount", "lineitemdiscount", "itempromotiondiscount", "discountamount"),
    "line_total": ("sales", "linetotal", "netsales", "itemtotal", "amount"),
    "category": ("category", "producttype", "productcategory"),
    "sub_category": ("subcategory",),
    "brand": ("brand", "vendor", "manufacturer"),
    "cost": ("cost", "unitcost", "costperitem"),
    "line_profit": ("profit", "lineprofit"),
    "margin": ("margin", "profitmargin"),
}
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%m/%d/%y", "%d-%m-%Y")
TIME_SUFFIXES = ("", " %H:%M:%S", " %H:%M", "T%H:%M:%S", " %H:%M:%S %z", "T%H:%M:%S%z")
AMOUNTS = ("quantity", "unit_price", "discount", "line_total", "cost", "line_profit", "margin")


def _key(name: str) -> str:
    return re.sub(r"[\s_\-./#]+", "", name).lower()


@dataclass
class Proposal:
    header: list[str]
    columns: dict[str, str]
    options: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    # Built-in presets whose columns the header has (the export is likely that format).
    presets: list[str] = field(default_factory=list)

    def as_yaml(self) -> str:
        document: dict[str, Any] = {"columns": self.columns}
        if self.options:
            document["options"] = self.options
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def _samples(con: duckdb.DuckDBPyConnection, column: str) -> list[str]:
    quoted = '"' + column.replace('"', '""') + '"'
    return [
        row[0]
        for row in con.execute(
            f"select {quoted} from export where nullif(trim({quoted}), '') is not null limit 200"
        ).fetchall()
    ]


def _all(con: duckdb.DuckDBPyConnection, values: list[str], test: str) -> bool:
    """Every sample passes `test` (SQL over `v`)."""
    if not values:
        return False
    return bool(
        con.execute(f"select bool_and({test}) from unnest(?) as t(v)", [values]).fetchall()[0][0]
    )


def _date_format(con: duckdb.DuckDBPyConnection, values: list[str]) -> str | None:
    for suffix in TIME_SUFFIXES:
        for date in DATE_FORMATS:
            fmt = date + suffix
            if _all(con, values, f"try_strptime(trim(v), '{fmt}') is not null"):
                return fmt
    return None


def _has_columns(header: list[str], mapping: Mapping) -> bool:
    """The header has every column the mapping names (as the importer matches them)."""
    folded = {name.strip().lower() for name in header}
    return all(
        column in header or column.strip().lower() in folded
        for source in mapping.columns.values()
        for column in source.columns
    )


def propose(export: Path, encoding: str = "utf-8") -> Proposal:
    """Match the export's columns to contract fields by name, then check (and complete)
    the matches with the columns' sample values."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(
            "create table export as select * from read_csv(?, all_varchar = true, "
            "header = true, auto_detect = true, encoding = ?)",
            [str(export), encoding],
        )
        header = [row[0] for row in con.execute("describe export").fetchall()]
        by_key = {}
        for name in header:
            by_key.setdefault(_key(name), name)
        samples = {name: _samples(con, name) for name in header}
        columns: dict[str, str] = {}
        options: dict[str, Any] = {}
        for target, names in NAMES.items():
            for candidate in names:
                column = by_key.get(candidate)
                if (
                    column is None
                    or column in columns.values()
                    and target
                    not in (
                        "email",
                        "customer_id",
                    )
                ):
                    continue
                values = samples[column]
                if target in AMOUNTS and not _all(
                    con, values, "try_cast(trim(v) as double) is not null"
                ):
                    continue
                if target == "email" and not _all(con, values, "contains(v, '@')"):
                    continue
                if target in ("transaction_datetime", "transaction_date"):
                    fmt = _date_format(con, values)
                    if fmt is None or (target == "transaction_date") == ("%H" in fmt):
                        continue
                    key = "datetime_format" if target == "transaction_datetime" else "date_format"
                    options[key] = fmt
                columns[target] = column
                break
        if "transaction_datetime" in columns:
            columns.pop("transaction_date", None)
            options.pop("date_format", None)
        if "discount" in columns:
            values = samples[columns["discount"]]
            fraction = _all(con, values, "try_cast(trim(v) as double) between -1 and 1")
            options["discount"] = "fraction" if fraction else "amount"
        if "unit_price" in columns and "line_total" in columns:
            columns.pop("unit_price")  # the line amount is the export's own total
    finally:
        con.close()
    missing = [f for f in REQUIRED if f not in columns]
    if "unit_price" not in columns and "line_total" not in columns:
        missing.append("unit_price (or line_total)")
    if "transaction_datetime" not in columns and "transaction_date" not in columns:
        missing.append("transaction_datetime (or transaction_date)")
    presets = [name for name in preset_names() if _has_columns(header, load_preset(name))]
    return Proposal(header, columns, options, missing, presets)
