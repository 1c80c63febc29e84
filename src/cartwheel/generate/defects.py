"""Inject the generator's defects into formatted (all-text) chunks and record each one.

A defect changes the written file only: totals of other rows were computed from the clean
numbers. Each row gets at most one defect, so a repairable one (padding, case, phone
punctuation, a recomputable line_total / total_amount) leaves a row that is fully correct
once repaired. Every defect becomes a ledger row: file, 1-based physical line (header =
line 1), entity, key as written, column (empty for whole-row defects), kind, repairable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cartwheel.contract import PRIMARY_KEYS, core_columns
from cartwheel.generate.writer import cents

LEDGER_COLUMNS = ("file", "line", "entity", "key", "column", "kind", "repairable")
REPAIRABLE = frozenset(
    {"phone_punctuation", "miscased_text", "padded_text", "wrong_line_total", "wrong_total_amount"}
)
WHOLE_ROW = ("",)

# Kinds each entity can carry, and the columns each kind may hit.
KINDS: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        "duplicate_row": WHOLE_ROW,
        # Only mandatory fields: a blank email or registration date is valid (optional).
        # Mandatory fields only (a last name and a category are optional).
        "missing_value": ("first_name",),
        "malformed_email": ("email",),
        "phone_punctuation": ("phone",),
        "malformed_phone": ("phone",),
        "miscased_text": ("first_name", "last_name", "email"),
        "padded_text": ("first_name", "last_name", "email", "city"),
        "future_date": ("registration_date",),
        "unparseable_value": ("registration_date",),
        "broken_csv_line": WHOLE_ROW,
    },
    "products": {
        "duplicate_row": WHOLE_ROW,
        "missing_value": ("product_name", "price"),
        "miscased_text": ("category",),
        "padded_text": ("product_name", "category", "brand"),
        "cost_above_price": ("cost",),
        "unparseable_value": ("price",),
        "broken_csv_line": WHOLE_ROW,
    },
    "transactions": {
        "duplicate_row": WHOLE_ROW,
        "missing_value": ("customer_id", "transaction_date"),
        "miscased_text": ("payment_method",),
        "padded_text": ("payment_method",),
        "orphan_customer_id": ("customer_id",),
        "wrong_total_amount": ("total_amount",),
        "future_date": ("transaction_date",),
        "unparseable_value": ("total_amount",),
        "broken_csv_line": WHOLE_ROW,
    },
    "transaction_items": {
        "duplicate_row": WHOLE_ROW,
        "missing_value": ("product_id", "quantity"),
        "non_positive_quantity": ("quantity",),
        "discount_out_of_range": ("discount_percentage",),
        "orphan_product_id": ("product_id",),
        "wrong_line_total": ("line_total",),
        "unparseable_value": ("quantity",),
        "broken_csv_line": WHOLE_ROW,
    },
}
# The column that carries a broken line's extra field (never the key).
BROKEN_CARRIER = {
    "customers": "last_name",
    "products": "category",
    "transactions": "payment_method",
    "transaction_items": "product_id",
}


@dataclass
class Context:
    """What some defects need to know: where orphan ids start and their widths."""

    n_customers: int
    n_products: int
    widths: dict[str, int]


@dataclass
class Injected:
    table: pa.Table
    ledger: pa.Table  # ledger columns except file; `line` relative to the chunk (1 = first)
    patches: dict[bytes, bytes] = field(default_factory=dict)


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _orphan(prefix: str, start: int, width: int, rng: np.random.Generator, n: int) -> pa.Array:
    numbers = pa.array(start + 1 + rng.integers(0, max(start, 10), n))
    return _join(prefix, pc.utf8_lpad(pc.cast(numbers, pa.string()), width, "0"))


def _transform(
    kind: str, column: str, rows: pa.Table, rng: np.random.Generator, ctx: Context
) -> pa.Array:
    """The written (defective) values of `column` for the selected rows."""
    v = rows[column].combine_chunks()
    n = len(v)
    mk: dict[str, Callable[[], pa.Array]] = {
        "missing_value": lambda: pa.nulls(n, pa.string()),
        "malformed_email": lambda: pc.replace_substring(v, "@", " at ", max_replacements=1),
        "phone_punctuation": lambda: _join(
            "(",
            pc.utf8_slice_codeunits(v, 0, 3),
            ") ",
            pc.utf8_slice_codeunits(v, 3, 6),
            "-",
            pc.utf8_slice_codeunits(v, 6, 10),
        ),
        "malformed_phone": lambda: pc.utf8_slice_codeunits(v, 0, 6),
        "miscased_text": lambda: pc.if_else(
            pc.equal(pc.utf8_upper(v), v), pc.utf8_lower(v), pc.utf8_upper(v)
        ),
        "padded_text": lambda: _join("  ", v, " "),
        "future_date": lambda: _join("21", pc.utf8_slice_codeunits(v, 2, 10)),
        "unparseable_value": lambda: (
            _join(pc.utf8_slice_codeunits(v, 0, 8), "32")
            if column.endswith("date")
            else _join(v, " pcs")
            if column == "quantity"
            else _join("$", v)
        ),
        "cost_above_price": lambda: _join("1", rows["price"].combine_chunks()),
        "orphan_customer_id": lambda: _orphan(
            "CUST", ctx.n_customers, ctx.widths["customer"], rng, n
        ),
        "orphan_product_id": lambda: _orphan("PROD", ctx.n_products, ctx.widths["product"], rng, n),
        "wrong_total_amount": lambda: _add_cents(v, rng),
        "wrong_line_total": lambda: _add_cents(v, rng),
        "non_positive_quantity": lambda: pc.if_else(
            pa.array(rng.random(n) < 0.5), pa.scalar("0"), _join("-", v)
        ),
        "discount_out_of_range": lambda: pc.cast(
            pc.add(pc.cast(v, pa.int64()), pa.scalar(101, pa.int64())), pa.string()
        ),
    }
    return mk[kind]()


def _add_cents(v: pa.Array, rng: np.random.Generator) -> pa.Array:
    delta = cents(rng.integers(100, 5000, len(v)))
    return pc.cast(pc.add(pc.cast(v, pa.decimal128(18, 2)), delta), pa.string())


def inject(
    table: pa.Table,
    entity: str,
    rate: float,
    rng: np.random.Generator,
    ctx: Context,
    csv: bool,
    tag: str,
) -> Injected:
    """Defects in about `rate` of the rows of one all-text chunk of `entity`.

    `tag` makes broken-line placeholders unique within a file.
    """
    n = table.num_rows
    kinds = [k for k in KINDS[entity] if csv or k != "broken_csv_line"]
    count = int(rng.binomial(n, rate)) if n else 0
    rows = np.sort(rng.choice(n, count, replace=False)) if count else np.empty(0, np.int64)
    kind_of = rng.integers(0, len(kinds), count)
    column_pick = rng.random(count)
    key_column = PRIMARY_KEYS[entity]
    keys = table[key_column].take(pa.array(rows, pa.int64()))

    columns = {name: table[name].combine_chunks() for name in core_columns(entity)}
    ledger_column = np.full(count, "", dtype=object)
    patches: dict[bytes, bytes] = {}
    for k, kind in enumerate(kinds):
        mine = np.nonzero(kind_of == k)[0]
        if not len(mine):
            continue
        candidates = KINDS[entity][kind]
        pick = (column_pick[mine] * len(candidates)).astype(np.int64)
        for c, column in enumerate(candidates):
            sel = mine[pick == c]
            if not len(sel) or kind == "duplicate_row":
                continue
            target = column or BROKEN_CARRIER[entity]
            chosen = table.take(pa.array(rows[sel], pa.int64()))
            if kind == "broken_csv_line":
                originals = chosen[target].combine_chunks().to_pylist()
                holders = [f"@@broken-{tag}-{int(r)}@@" for r in rows[sel]]
                # An unquoted extra field: the line has one column too many.
                for holder, original in zip(holders, originals, strict=True):
                    patches[holder.encode()] = (original or "").encode() + b",#"
                values = pa.array(holders, pa.string())
            else:
                values = _transform(kind, column, chosen, rng, ctx)
                ledger_column[sel] = column
            mask = np.zeros(n, dtype=bool)
            mask[rows[sel]] = True
            columns[target] = pc.replace_with_mask(columns[target], pa.array(mask), values)

    # Duplicates: the copy follows its original, so later rows move down one line each.
    duplicate = np.zeros(n, dtype=np.int64)
    dup_rows = rows[kind_of == kinds.index("duplicate_row")] if count else rows
    duplicate[dup_rows] = 1
    out = pa.table(columns)
    if len(dup_rows):
        out = out.take(pa.array(np.repeat(np.arange(n), 1 + duplicate), pa.int64()))
    shift = np.cumsum(duplicate) - duplicate  # duplicates inserted before each row
    line = rows + shift[rows] + 1
    is_dup = duplicate[rows] == 1
    line = line + is_dup  # the ledger points at the copy, not the original
    ledger = pa.table(
        {
            "line": pa.array(line, pa.int64()),
            "entity": pa.array([entity] * count, pa.string()),
            "key": keys,
            "column": pa.array(ledger_column.tolist(), pa.string()),
            "kind": pa.array([kinds[i] for i in kind_of], pa.string()),
            "repairable": pa.array([kinds[i] in REPAIRABLE for i in kind_of], pa.bool_()),
        }
    )
    return Injected(out, ledger, patches)
