"""The column mapping of an export: which export column feeds which contract field and
how amounts are given (docs/import.md). A field the mapping does not give is unknown."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cartwheel.yamlfiles import load_built_in

# Fields read once per order (first non-blank line of the order) and once per line.
ORDER_FIELDS = (
    "customer_id",
    "email",
    "full_name",
    "first_name",
    "last_name",
    "phone",
    "city",
    "state",
    "country",
    "age_group",
    "registration_date",
    "transaction_datetime",
    "transaction_date",
    "transaction_time",
    "payment_method",
    "shipping_address",
    "shipping_city",
    "shipping_state",
    "shipping_postal_code",
    "shipping_country",
    "order_subtotal",
)
LINE_FIELDS = (
    "product_id",
    "product_name",
    "quantity",
    "unit_price",
    "discount",
    "line_total",
    "category",
    "sub_category",
    "brand",
    "cost",
    "line_profit",
    "margin",
    "stock_quantity",
    "supplier_id",
)
# Fields a mapping may name.
FIELDS = ("transaction_id", *ORDER_FIELDS, *LINE_FIELDS)
REQUIRED = ("transaction_id", "customer_id", "product_id", "quantity")
# Where a product's cost comes from: at most one of these (or options.cost_ratio).
COST_SOURCES = ("cost", "line_profit", "margin")
SECTIONS = ("title", "columns", "options", "categories", "payment_methods")


class MappingError(ValueError):
    """The mapping file is unusable; the message is one line."""


@dataclass(frozen=True)
class Source:
    """Where a field comes from: the first non-blank of `columns`, or all of them joined."""

    columns: tuple[str, ...]
    join: bool = False


@dataclass(frozen=True)
class Mapping:
    columns: dict[str, Source]
    discount: str = "amount"  # amount (off the whole line) | fraction (0-1) | percentage
    # The unit_price column: the unit price before | after the discount, or the whole
    # line's amount before the discount (all units, as Amazon's item-price).
    price: str = "before_discount"
    margin: str = "fraction"  # the margin column: profit / line amount, fraction | percentage
    order_discount: str = "none"  # none | to_subtotal (spread the rest of an order's discount)
    datetime_format: tuple[str, ...] = ("%Y-%m-%d %H:%M:%S",)  # tried in order
    date_format: str = "%Y-%m-%d"
    time_format: str = "%H:%M:%S"
    cost_ratio: float | None = None  # only when asked for: cost = price x ratio
    encoding: str = "utf-8"  # utf-8 | utf-16 | latin-1 (DuckDB's built-in encodings)
    # The export writes a value starting with = + - @ behind a ' (so that a spreadsheet
    # does not run it as a formula): that quote is not part of the value.
    formula_quote: bool = False
    categories: dict[str, str] = field(default_factory=dict)
    payment_methods: dict[str, str] = field(default_factory=dict)
    name: str = "mapping"
    title: str = ""


def preset_names() -> list[str]:
    folder = resources.files("cartwheel.importing") / "presets"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


@cache
def preset_titles() -> dict[str, str]:
    """Each built-in preset's name and the export it reads (its `title:`)."""
    return {name: load_preset(name).title for name in preset_names()}


def load_preset(name: str) -> Mapping:
    if name not in preset_names():
        raise MappingError(f"unknown preset {name!r} (built in: {', '.join(preset_names())})")
    text = (resources.files("cartwheel.importing") / "presets" / f"{name}.yaml").read_text("utf-8")
    return parse_mapping(load_built_in(text), f"preset {name}")


def load_mapping(path: Path) -> Mapping:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise MappingError(f"{path}: cannot read the mapping ({error})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise MappingError(f"{path}:{where} not valid YAML") from None
    return parse_mapping(data, str(path))


def _source(value: Any, key: str, origin: str) -> Source:
    if isinstance(value, str) and value.strip():
        return Source((value,))
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return Source(tuple(value))
    if isinstance(value, dict) and set(value) == {"join"}:
        inner = _source(value["join"], key, origin)
        return Source(inner.columns, join=True)
    raise MappingError(
        f"{origin}: columns.{key} must be a column name, a list of names or {{join: [...]}}"
    )


def _choice(options: dict[str, Any], key: str, allowed: tuple[str, ...], origin: str) -> str:
    value = str(options.get(key, allowed[0]))
    if value not in allowed:
        raise MappingError(f"{origin}: options.{key} must be one of {', '.join(allowed)}")
    return value


def _flag(options: dict[str, Any], key: str, origin: str) -> bool:
    value = options.get(key, False)
    if not isinstance(value, bool):
        raise MappingError(f"{origin}: options.{key} must be true or false")
    return value


def _translation(data: dict[str, Any], key: str, origin: str) -> dict[str, str]:
    """export value -> the shop's own value (any non-blank text)."""
    table = data.get(key) or {}
    if not isinstance(table, dict) or any(not str(v).strip() for v in table.values()):
        raise MappingError(f"{origin}: {key} must be a mapping of export value -> value")
    return {str(k): str(v) for k, v in table.items()}


def _formats(value: Any, origin: str) -> tuple[str, ...]:
    formats = value if isinstance(value, list) else [value]
    if not formats or not all(isinstance(f, str) and f for f in formats):
        raise MappingError(f"{origin}: options.datetime_format must be a format or a list")
    return tuple(formats)


def parse_mapping(data: Any, origin: str) -> Mapping:
    """Check a mapping document and turn it into a Mapping (errors name the key)."""
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise MappingError(f"{origin}: a mapping needs a 'columns:' section")
    if "defaults" in data:
        raise MappingError(
            f"{origin}: 'defaults:' is gone: a value the export lacks is unknown (NULL), "
            "never a constant (see docs/import.md)"
        )
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise MappingError(f"{origin}: unknown section(s): {', '.join(unknown)}")
    columns: dict[str, Source] = {}
    for key, value in data["columns"].items():
        if key not in FIELDS:
            raise MappingError(f"{origin}: columns.{key} is not a field (see docs/import.md)")
        columns[key] = _source(value, key, origin)
    missing = [key for key in REQUIRED if key not in columns]
    if "unit_price" not in columns and "line_total" not in columns:
        missing.append("unit_price (or line_total)")
    if "transaction_datetime" not in columns and "transaction_date" not in columns:
        missing.append("transaction_datetime (or transaction_date)")
    if missing:
        raise MappingError(f"{origin}: columns must map {', '.join(missing)}")
    options = data.get("options") or {}
    if not isinstance(options, dict):
        raise MappingError(f"{origin}: options must be a mapping")
    ratio = options.get("cost_ratio")
    if ratio is not None:
        try:
            ratio = float(ratio)
        except (TypeError, ValueError):
            raise MappingError(f"{origin}: options.cost_ratio must be a number") from None
        if not 0 <= ratio < 1:
            raise MappingError(f"{origin}: options.cost_ratio must be >= 0 and < 1 (cost < price)")
    costs = [key for key in COST_SOURCES if key in columns] + (["cost_ratio"] if ratio else [])
    if len(costs) > 1:
        raise MappingError(f"{origin}: give one cost source, not {' and '.join(costs)}")
    order_discount = _choice(options, "order_discount", ("none", "to_subtotal"), origin)
    if order_discount == "to_subtotal" and "order_subtotal" not in columns:
        raise MappingError(f"{origin}: options.order_discount: to_subtotal needs order_subtotal")
    return Mapping(
        columns=columns,
        discount=_choice(options, "discount", ("amount", "fraction", "percentage"), origin),
        price=_choice(
            options, "price", ("before_discount", "after_discount", "line_before_discount"), origin
        ),
        margin=_choice(options, "margin", ("fraction", "percentage"), origin),
        order_discount=order_discount,
        datetime_format=_formats(options.get("datetime_format", "%Y-%m-%d %H:%M:%S"), origin),
        date_format=str(options.get("date_format", "%Y-%m-%d")),
        time_format=str(options.get("time_format", "%H:%M:%S")),
        cost_ratio=ratio,
        encoding=_choice(options, "encoding", ("utf-8", "utf-16", "latin-1"), origin),
        formula_quote=_flag(options, "formula_quote", origin),
        categories=_translation(data, "categories", origin),
        payment_methods=_translation(data, "payment_methods", origin),
        name=origin,
        title=str(data.get("title") or ""),
    )
