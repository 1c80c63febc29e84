"""Generate the four raw entities of the contract (SPEC §3) with numpy.

Numbers are drawn as integer arrays (codes into vocabularies, cents, day offsets) and
turned into text by DuckDB while it writes the files, so no Python loop touches a row.
Money is kept in integer cents so that `line_total` and `total_amount` obey the
contract's rounding exactly.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from cartwheel.engines.base import string_literal
from cartwheel.generate import vocab

DEFAULT_START = date(2024, 1, 1)
DEFAULT_END = date(2025, 12, 31)


@dataclass
class GenerationResult:
    out_dir: Path
    record_counts: dict[str, int]
    date_range: dict[str, str]
    seconds: float
    files: dict[str, Path] = field(default_factory=dict)


def entity_counts(scale: float) -> dict[str, int]:
    """Customers and transactions grow linearly; the catalogue grows with sqrt(scale)
    above scale 1 (shops do not list 5,000x more products when they sell 5,000x more)."""
    products = round(500 * scale**0.5) if scale >= 1 else max(50, round(500 * scale))
    return {
        "customers": max(10, round(1000 * scale)),
        "products": products,
        "transactions": max(20, round(10000 * scale)),
    }


def _id_width(count: int, minimum: int) -> int:
    return max(minimum, len(str(count)))


def _dictionary(codes: np.ndarray, values: tuple[str, ...] | list[str]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(values))


def _customers(rng: np.random.Generator, n: int, start: date, end: date) -> pa.Table:
    span = (end - start).days
    # Most customers registered before the window; the rest join during it.
    before = rng.random(n) < 0.6
    reg_offset = np.where(before, -rng.integers(1, 730, n), rng.integers(0, max(1, span - 30), n))
    state_weights = np.array([s[2] for s in vocab.STATES])
    state_idx = rng.choice(len(vocab.STATES), n, p=state_weights / state_weights.sum())
    city_count = np.array([len(s[1]) for s in vocab.STATES])
    city_idx = (rng.random(n) * city_count[state_idx]).astype(np.int64)
    city_offsets = np.concatenate([[0], np.cumsum(city_count)[:-1]])
    all_cities = [c for s in vocab.STATES for c in s[1]]
    return pa.table(
        {
            "id": np.arange(1, n + 1, dtype=np.int64),
            "first_name": _dictionary(
                rng.integers(0, len(vocab.FIRST_NAMES), n), vocab.FIRST_NAMES
            ),
            "last_name": _dictionary(rng.integers(0, len(vocab.LAST_NAMES), n), vocab.LAST_NAMES),
            "domain": _dictionary(
                rng.integers(0, len(vocab.EMAIL_DOMAINS), n), vocab.EMAIL_DOMAINS
            ),
            "phone": rng.integers(2_000_000_000, 9_999_999_999, n, dtype=np.int64),
            "reg_offset": reg_offset.astype(np.int32),
            "city": _dictionary(city_offsets[state_idx] + city_idx, all_cities),
            "state": _dictionary(state_idx, [s[0] for s in vocab.STATES]),
            "age_group": _dictionary(
                rng.choice(len(vocab.AGE_GROUPS), n, p=vocab.AGE_GROUP_WEIGHTS), vocab.AGE_GROUPS
            ),
            "street_no": rng.integers(1, 9999, n, dtype=np.int32),
            "street": _dictionary(rng.integers(0, len(vocab.STREETS), n), vocab.STREETS),
        }
    )


def _products(rng: np.random.Generator, n: int) -> tuple[pa.Table, np.ndarray]:
    shares = np.array([c[4] for c in vocab.CATEGORIES])
    cat = rng.choice(len(vocab.CATEGORIES), n, p=shares / shares.sum())
    lo = np.array([c[3][0] for c in vocab.CATEGORIES])[cat]
    hi = np.array([c[3][1] for c in vocab.CATEGORIES])[cat]
    # Log-uniform prices inside each category's range: many cheap items, a few dear ones.
    price = np.exp(rng.uniform(np.log(lo), np.log(hi)))
    price_cents = np.maximum(100, np.round(price * 100)).astype(np.int64)
    margin = rng.uniform(0.10, 0.45, n) + np.where(price_cents >= 20000, 0.12, 0.0)
    cost_cents = np.minimum(price_cents - 1, np.round(price_cents * (1 - margin))).astype(np.int64)
    sub_counts = np.array([len(c[1]) for c in vocab.CATEGORIES])
    sub_offsets = np.concatenate([[0], np.cumsum(sub_counts)[:-1]])
    brand_counts = np.array([len(c[2]) for c in vocab.CATEGORIES])
    brand_offsets = np.concatenate([[0], np.cumsum(brand_counts)[:-1]])
    sub = sub_offsets[cat] + (rng.random(n) * sub_counts[cat]).astype(np.int64)
    brand = brand_offsets[cat] + (rng.random(n) * brand_counts[cat]).astype(np.int64)
    table = pa.table(
        {
            "id": np.arange(1, n + 1, dtype=np.int64),
            "noun": _dictionary(rng.integers(0, len(vocab.PRODUCT_NOUNS), n), vocab.PRODUCT_NOUNS),
            "category": _dictionary(cat, [c[0] for c in vocab.CATEGORIES]),
            "sub_category": _dictionary(sub, [s for c in vocab.CATEGORIES for s in c[1]]),
            "brand": _dictionary(brand, [b for c in vocab.CATEGORIES for b in c[2]]),
            "price_cents": price_cents,
            "cost_cents": cost_cents,
            "stock_quantity": rng.integers(0, 1000, n, dtype=np.int32),
            "supplier": rng.integers(1, 60, n, dtype=np.int32),
        }
    )
    return table, price_cents


def _orders(
    rng: np.random.Generator,
    n_txn: int,
    reg_offset: np.ndarray,
    price_cents: np.ndarray,
    span: int,
) -> tuple[pa.Table, pa.Table]:
    n_customers = len(reg_offset)
    # Skewed customer activity: a minority of customers places most orders.
    activity = rng.pareto(1.6, n_customers) + 0.2
    customer = rng.choice(n_customers, n_txn, p=activity / activity.sum())
    first_day = np.maximum(reg_offset[customer], 0)
    day = first_day + (rng.random(n_txn) * (span + 1 - first_day)).astype(np.int64)
    seconds = rng.integers(0, 86400, n_txn, dtype=np.int32)
    payment = rng.choice(len(vocab.PAYMENT_METHODS), n_txn, p=vocab.PAYMENT_WEIGHTS)

    basket = np.minimum(rng.geometric(0.5, n_txn), 8)
    n_items = int(basket.sum())
    txn_of_item = np.repeat(np.arange(n_txn), basket)
    popularity = rng.pareto(1.2, len(price_cents)) + 0.05
    product = rng.choice(len(price_cents), n_items, p=popularity / popularity.sum())
    quantity = np.minimum(rng.geometric(0.65, n_items), 10).astype(np.int64)
    discounts = np.array([0, 5, 10, 15, 20, 25, 30, 40, 50, 60])
    discount_weights = np.array([0.45, 0.12, 0.12, 0.08, 0.07, 0.05, 0.04, 0.03, 0.02, 0.02])
    discount = discounts[rng.choice(len(discounts), n_items, p=discount_weights)]
    unit = price_cents[product]
    # round(q * price * (1 - d/100), 2), half away from zero, in integer cents.
    line_cents = (quantity * unit * (100 - discount) + 50) // 100
    total_cents = np.bincount(txn_of_item, weights=line_cents, minlength=n_txn).astype(np.int64)

    transactions = pa.table(
        {
            "id": np.arange(1, n_txn + 1, dtype=np.int64),
            "customer": (customer + 1).astype(np.int64),
            "day": day.astype(np.int32),
            "seconds": seconds,
            "payment": _dictionary(payment, vocab.PAYMENT_METHODS),
            "total_cents": total_cents,
        }
    )
    items = pa.table(
        {
            "id": np.arange(1, n_items + 1, dtype=np.int64),
            "txn": (txn_of_item + 1).astype(np.int64),
            "product": (product + 1).astype(np.int64),
            "quantity": quantity,
            "unit_cents": unit,
            "discount": discount.astype(np.int32),
            "line_cents": line_cents.astype(np.int64),
        }
    )
    return transactions, items


def _pad(column: str, prefix: str, width: int) -> str:
    return f"'{prefix}' || lpad(cast({column} as varchar), {width}, '0')"


def _money(column: str) -> str:
    return f"cast({column} / 100 as decimal(18, 2))"


def generate(
    out_dir: Path,
    scale: float = 1.0,
    seed: int = 42,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
    file_format: str = "csv",
) -> GenerationResult:
    """Write customers, products, transactions and transaction_items to `out_dir`."""
    began = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    counts = entity_counts(scale)
    span = (end - start).days

    customers = _customers(rng, counts["customers"], start, end)
    products, price_cents = _products(rng, counts["products"])
    transactions, items = _orders(
        rng, counts["transactions"], customers["reg_offset"].to_numpy(), price_cents, span
    )

    cw = _id_width(counts["customers"], 4)
    pw = _id_width(counts["products"], 4)
    tw = _id_width(counts["transactions"], 5)
    iw = _id_width(len(items), 5)
    selects = {
        "customers": f"""
            select {_pad("id", "CUST", cw)} as customer_id, first_name, last_name,
                lower(first_name || '.' || last_name || id || '@' || domain) as email,
                substr(cast(phone as varchar), 1, 3) || '-' || substr(cast(phone as varchar), 4, 3)
                    || '-' || substr(cast(phone as varchar), 7, 4) as phone,
                ?::date + reg_offset as registration_date,
                city, state, '{vocab.COUNTRY}' as country, age_group
            from customers order by id""",
        "products": f"""
            select {_pad("id", "PROD", pw)} as product_id,
                brand || ' ' || sub_category || ' ' || noun || ' ' || id as product_name,
                category, sub_category, {_money("price_cents")} as price,
                {_money("cost_cents")} as cost, brand, stock_quantity,
                {_pad("supplier", "SUP", 3)} as supplier_id
            from products order by id""",
        "transactions": f"""
            select {_pad("t.id", "TXN", tw)} as transaction_id,
                {_pad("t.customer", "CUST", cw)} as customer_id,
                ?::date + t.day as transaction_date,
                strftime(timestamp '2000-01-01' + to_seconds(t.seconds), '%H:%M:%S')
                    as transaction_time,
                t.payment as payment_method,
                c.street_no || ' ' || c.street || ', ' || c.city || ', ' || c.state
                    as shipping_address,
                {_money("t.total_cents")} as total_amount
            from transactions t join customers c on c.id = t.customer order by t.id""",
        "transaction_items": f"""
            select {_pad("id", "ITEM", iw)} as item_id, {_pad("txn", "TXN", tw)} as transaction_id,
                {_pad("product", "PROD", pw)} as product_id, quantity,
                {_money("unit_cents")} as unit_price, discount as discount_percentage,
                {_money("line_cents")} as line_total
            from items order by id""",
    }
    con = duckdb.connect()
    con.register("customers", customers)
    con.register("products", products)
    con.register("transactions", transactions)
    con.register("items", items)
    files: dict[str, Path] = {}
    suffix = "parquet" if file_format == "parquet" else "csv"
    options = "(format parquet)" if suffix == "parquet" else "(format csv, header true)"
    for entity, select in selects.items():
        path = out_dir / f"{entity}.{suffix}"
        params = [start] if "?::date" in select else []
        con.execute(f"copy ({select}) to {string_literal(path)} {options}", params).fetchall()
        files[entity] = path
    con.close()

    record_counts = {
        "customers": counts["customers"],
        "products": counts["products"],
        "transactions": counts["transactions"],
        "transaction_items": len(items),
    }
    date_range = {"start": start.isoformat(), "end": (start + timedelta(days=span)).isoformat()}
    seconds = time.perf_counter() - began
    metadata = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "record_counts": record_counts,
        "date_range": date_range,
        "data_quality": {"defect_rate": 0.0, "defects_injected": 0},
        "scale": scale,
        "seed": seed,
        "format": suffix,
        "execution_time_seconds": round(seconds, 3),
    }
    (out_dir / "generation_metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
    return GenerationResult(out_dir, record_counts, date_range, seconds, files)
