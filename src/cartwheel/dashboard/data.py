"""Aggregate the warehouse into the compact data the dashboard page filters and draws.

Every table here is bounded by dimension sizes (months, categories, states, payment
methods, the capped lists of products and customers), never by the number of order lines.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from cartwheel.engines import Engine
from cartwheel.sqlfiles import fill, sql_text

# Caps that keep the embedded data bounded for shops with long tails.
LIMITS = {
    "max_categories": 20,
    "max_states": 60,
    "max_payment_methods": 12,
    "max_sub_categories": 60,
    "products_per_category": 25,
}
QUERIES = (
    "sales_cube",
    "orders_cube",
    "products",
    "subcategories",
    "weekdays",
    "customers",
    "top_customers",
    "acquisition",
    "spend_bands",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass
class WarehouseData:
    """The page's sales data plus how long each query took."""

    data: dict[str, Any]
    query_ms: dict[str, float]


# The sums the queries read (placeholder: the table the warehouse step keeps). Where the
# kept sums cannot answer, temporary tables of the same shape are built from the order
# lines (dashboard/sql/lines/<placeholder>.sql over dashboard_lines) and read instead.
SUMS = {
    "sales_cells": "ops.dashboard_sales_cells",
    "order_cells": "ops.dashboard_order_cells",
    "product_months": "ops.dashboard_product_months",
    "sub_category_months": "ops.dashboard_sub_category_months",
    "category_days": "ops.dashboard_category_days",
}
#: Temporary tables built (in this order) before the queries: table name → model.
TEMPORARY = {"dashboard_names": "_names", "dashboard_customers": "_customers"}


def _sql(name: str, sums: dict[str, str]) -> str:
    return fill(sql_text(f"dashboard/sql/{name}.sql"), LIMITS | sums)


def _columns(table: pa.Table) -> dict[str, list]:
    """Column-oriented lists (smaller JSON than one object per row)."""
    return {name: table.column(name).to_pylist() for name in table.column_names}


def _encode(columns: dict[str, list], name: str, values: list[str]) -> None:
    """Replace a text column by indexes into `values` (unknown values map to 'Other')."""
    index = {value: i for i, value in enumerate(values)}
    other = index.get("Other")
    columns[name] = [index.get(v, other) if v is not None else None for v in columns[name]]


def _by_revenue(names: list, revenue: list) -> list[str]:
    totals: dict[str, float] = {}
    for name, amount in zip(names, revenue, strict=True):
        totals[name] = totals.get(name, 0.0) + amount
    ranked = sorted(totals, key=lambda n: (n == "Other", -totals[n], n))
    return ranked


def sums_apply(engine: Engine) -> bool:
    """Whether the monthly sums can answer: they exist (a warehouse from before them has
    none until its next run) and no category folds into 'Other' (orders of folded
    categories do not add up: one transaction can hold several)."""
    if not engine.table_exists("ops.dashboard_sales_cells"):
        return False
    categories = engine.scalar(
        "select count(distinct category_name) from ops.dashboard_sales_cells"
    )
    return int(categories) <= LIMITS["max_categories"]


def warehouse_data(engine: Engine) -> WarehouseData:
    """Run the dashboard queries and shape their results for the page."""
    tables: dict[str, dict[str, list]] = {}
    timings: dict[str, float] = {}
    began = time.perf_counter()
    from_sums = sums_apply(engine)
    temporary: dict[str, str] = {}
    if from_sums:
        sums = SUMS
    else:
        sums = {name: f"dashboard_{name}" for name in SUMS}
        temporary = {"dashboard_lines": "_lines"} | {sums[name]: f"lines/{name}" for name in SUMS}
    temporary |= TEMPORARY
    # One pass into temporary tables; the queries below read them (and the sums).
    try:
        for table, model in temporary.items():
            engine.execute(f"drop table if exists {table}")
            engine.execute(f"create temporary table {table} as {_sql(model, sums)}")
        timings["sums" if from_sums else "lines"] = round((time.perf_counter() - began) * 1000, 1)
        for name in QUERIES:
            began = time.perf_counter()
            tables[name] = _columns(engine.query_arrow(_sql(name, sums)))
            timings[name] = round((time.perf_counter() - began) * 1000, 1)
    finally:
        for table in temporary:
            engine.execute(f"drop table if exists {table}")

    sales = tables["sales_cube"]
    # Every month of the sales period, also one without sales (the calendar has it).
    months = sorted(set(sales["month_key"]) | set(tables["weekdays"]["month_key"]))
    dims = {
        "months": months,
        "categories": _by_revenue(sales["category"], sales["revenue"]),
        "states": _by_revenue(sales["state"], sales["revenue"]),
        "payment_methods": _by_revenue(sales["payment_method"], sales["revenue"]),
        "segments": sorted(set(tables["orders_cube"]["customer_segment"])),
        "spend_bands": tables["spend_bands"]["name"],
        "weekdays": list(WEEKDAYS),
    }
    if "Other" in sales["state"] and "Other" not in dims["states"]:
        dims["states"].append("Other")

    for cube in (sales, tables["orders_cube"]):
        _encode(cube, "state", dims["states"])
        _encode(cube, "payment_method", dims["payment_methods"])
    _encode(sales, "category", dims["categories"])
    _encode(tables["orders_cube"], "customer_segment", dims["segments"])

    products = tables["products"]
    catalogue = _product_catalogue(products, dims["categories"])
    sub = tables["subcategories"]
    dims["sub_categories"] = _by_revenue(
        [f"{c}\u0000{s}" for c, s in zip(sub["category"], sub["sub_category"], strict=True)],
        sub["revenue"],
    )
    sub["sub_category"] = [
        dims["sub_categories"].index(f"{c}\u0000{s}")
        for c, s in zip(sub["category"], sub["sub_category"], strict=True)
    ]
    _encode(sub, "category", dims["categories"])
    dims["sub_categories"] = [key.split("\u0000", 1)[1] for key in dims["sub_categories"]]

    weekdays = tables["weekdays"]
    calendar = sorted(
        {
            (m, d, n)
            for m, d, n in zip(
                weekdays["month_key"], weekdays["iso_day_of_week"], weekdays["days"], strict=True
            )
        }
    )
    keep = [i for i, c in enumerate(weekdays["category"]) if c is not None]
    weekday_cells = {
        name: [weekdays[name][i] for i in keep]
        for name in ("month_key", "iso_day_of_week", "category", "revenue", "orders")
    }
    _encode(weekday_cells, "category", dims["categories"])

    customers = tables["customers"]
    _encode(customers, "state", dims["states"])
    top = tables["top_customers"]
    top["state"] = [s if s in dims["states"] else "Other" for s in top["state"]]
    acquisition = tables["acquisition"]
    _encode(acquisition, "state", dims["states"])

    data = {
        "dims": dims,
        "sales": sales,
        "orders": tables["orders_cube"],
        "products": catalogue,
        "product_sales": {
            "product": [catalogue["index"][p] for p in products["product_id"]],
            **{k: products[k] for k in ("month_key", "revenue", "profit", "units")},
        },
        "sub_categories": sub,
        "calendar": {
            "month_key": [c[0] for c in calendar],
            "iso_day_of_week": [c[1] for c in calendar],
            "days": [c[2] for c in calendar],
        },
        "weekdays": weekday_cells,
        "spend": customers,
        "top_customers": top,
        "acquisition": acquisition,
    }
    del catalogue["index"]
    # Months as positions in dims.months (shorter than 202401-style keys, and what the
    # date-range filter compares). Registrations keep their keys: they start earlier.
    position = {key: i for i, key in enumerate(months)}
    for name in ("sales", "orders", "product_sales", "sub_categories", "weekdays", "calendar"):
        data[name]["month"] = [position[key] for key in data[name].pop("month_key")]
    return WarehouseData(data, timings)


def _product_catalogue(products: dict[str, list], categories: list[str]) -> dict[str, list]:
    """One entry per chosen product (the query repeats attributes per month)."""
    index: dict[str, int] = {}
    catalogue: dict[str, Any] = {
        key: [] for key in ("product_id", "product_name", "category", "sub_category", "brand")
    }
    catalogue.update(price=[], cost=[])
    for row, product_id in enumerate(products["product_id"]):
        if product_id in index:
            continue
        index[product_id] = len(index)
        for key in ("product_id", "product_name", "sub_category", "brand", "price", "cost"):
            catalogue[key].append(products[key][row])
        category = products["category"][row]
        catalogue["category"].append(
            categories.index(category) if category in categories else len(categories) - 1
        )
    catalogue["index"] = index
    return catalogue
