"""Turn a flat order-line export into the four raw entity files.

All the work is DuckDB SQL over `read_csv(all_varchar)`: lines are mapped, order fields
filled down from an order's first line, unit prices and costs derived where the export
gives line amounts and profits, conflicts resolved (the latest order wins) and reported,
amounts kept exact (4 decimals), ids assigned, and the four CSVs plus ids.csv and
conflicts.csv written. docs/import.md describes every rule.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from cartwheel.contract import OPTIONAL_COLUMNS, RAW_COLUMNS
from cartwheel.importing.mapping import LINE_FIELDS, ORDER_FIELDS, Mapping, Source
from cartwheel.sqltext import string_literal

CUSTOMER_ATTRIBUTES = (
    "email",
    "first_name",
    "last_name",
    "phone",
    "city",
    "state",
    "country",
    "age_group",
)
PRODUCT_ATTRIBUTES = ("product_name", "category", "sub_category", "brand", "supplier_id")
ID_FORMATS = {  # prefix and the smallest width (the contract's seed-scale ids)
    "customers": ("CUST", 4),
    "products": ("PROD", 4),
    "transactions": ("TXN", 5),
    "transaction_items": ("ITEM", 5),
}


class ImportInputError(ValueError):
    """The export (or its mapping) cannot be imported; the message is one line."""


@dataclass
class Conflict:
    """Keys of one attribute that had more than one value, with up to five examples."""

    attribute: str
    keys: int
    rule: str
    examples: list[str]


@dataclass
class ImportResult:
    out_dir: Path
    rows_read: int
    record_counts: dict[str, int]
    conflicts: dict[str, int]
    export_net_total: str
    written_total: str
    derived_unit_prices: int
    adjusted_unit_prices: int
    orders_without_customer: int
    subtotal_mismatches: int | None
    export_profit_total: str | None = None
    export_subtotal_total: str | None = None
    order_discounts_spread: int = 0
    products_without_usable_cost: int = 0
    seconds: float = 0.0
    conflict_details: list[Conflict] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    unknown_fields: list[str] = field(default_factory=list)

    def warnings(self) -> list[str]:
        """What a user should look at before running the pipeline on the files."""
        notes = [
            f"{c.attribute}: {c.keys} with more than one value ({c.rule}), e.g. "
            + "; ".join(c.examples)
            for c in self.conflict_details
        ]
        if self.orders_without_customer:
            notes.append(
                f"{self.orders_without_customer} order(s) without a customer key: they get a "
                "placeholder customer key ('order <id>') with no email"
            )
        if self.subtotal_mismatches:
            notes.append(
                f"{self.subtotal_mismatches} order(s) whose lines do not add up to the "
                "export's subtotal (see docs/import.md, order_discount)"
            )
        if self.products_without_usable_cost:
            notes.append(
                f"{self.products_without_usable_cost} product(s) whose derived cost is not "
                "between 0 and the price: their cost is unknown (NULL)"
            )
        return notes

    def as_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["out_dir"] = str(self.out_dir)
        data["conflict_details"] = [c.__dict__ for c in self.conflict_details]
        data["warnings"] = self.warnings()
        return data


def _quote(column: str) -> str:
    """A quoted identifier for a header name already checked against the export."""
    return '"' + column.replace('"', '""') + '"'


def _trimmed(column: str, formula_quote: bool) -> str:
    """The column's value without surrounding spaces (NULL when blank); with
    `formula_quote`, without the ' an export puts before a leading = + - @."""
    value = f"nullif(trim({_quote(column)}), '')"
    if not formula_quote:
        return value
    return (
        f"case when starts_with({value}, '''') "
        f"and substr({value}, 2, 1) in ('=', '+', '-', '@') "
        f"then substr({value}, 2) else {value} end"
    )


def _expression(source: Source | None, formula_quote: bool = False) -> str:
    if source is None:
        return "cast(null as varchar)"
    parts = [_trimmed(c, formula_quote) for c in source.columns]
    if source.join:
        return f"nullif(concat_ws(', ', {', '.join(parts)}), '')"
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def _raw_expression(source: Source) -> str:
    """The first non-blank of the columns exactly as written (for ids.csv)."""
    parts = [
        f"case when nullif(trim({_quote(c)}), '') is not null then {_quote(c)} end"
        for c in source.columns
    ]
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def _whole_number(column: str) -> str:
    """An integer from export text; `1.5` is not one (a cast would round it to 2)."""
    number = _number(column)
    return f"try_cast(case when {number} = trunc({number}) then {number} end as integer)"


def _number(column: str, scale: int = 4) -> str:
    """A decimal from export text; a thousands separator or currency sign is refused."""
    return f"try_cast({column} as decimal(18, {scale}))"


# How conflicting values are resolved (docs/import.md, Conflicts).
CONFLICT_RULE = "the latest order wins"
SHARED_EMAIL_RULE = "kept by the customer whose latest order used it; the others get none"


class _Importer:
    def __init__(self, export: Path, mapping: Mapping) -> None:
        self.export = export
        self.mapping = mapping
        self.con = duckdb.connect(":memory:")
        self.con.execute("set autoinstall_known_extensions = false")

    def fail(self, message: str) -> ImportInputError:
        return ImportInputError(f"{self.export}: {message}")

    def scalar(self, sql: str) -> Any:
        return self.con.execute(sql).fetchall()[0][0]

    # -- reading -----------------------------------------------------------------------
    def read(self) -> None:
        """Check the header against the mapping (the rows are read by build_lines)."""
        if not self.export.is_file():
            raise self.fail("export file not found (or not a file)")
        self.reader = (
            "read_csv(?, all_varchar = true, header = true, auto_detect = true, encoding = ?)"
        )
        self.parameters = [str(self.export), self.mapping.encoding]
        try:
            self.header = [
                row[0]
                for row in self.con.execute(
                    f"describe select * from {self.reader}", self.parameters
                ).fetchall()
            ]
        except duckdb.Error as error:
            raise self._unreadable(error) from None
        self.sources = resolve_columns(self.header, self.mapping, self.fail)
        used = {c for s in self.sources.values() for c in s.columns}
        self.ignored = [column for column in self.header if column not in used]

    def _unreadable(self, error: duckdb.Error) -> ImportInputError:
        first = str(error).strip().splitlines()[0] if str(error).strip() else "unknown"
        hint = "; not UTF-8? set options.encoding" if "Line" in first else ""
        return self.fail(f"cannot read as CSV ({first}{hint})")

    def source_name(self, key: str) -> str:
        return ", ".join(repr(c) for c in self.sources[key].columns)

    def check_none(self, sql: str, message: str) -> None:
        """Raise `message` (formatted with count, value, record) when `sql` finds rows."""
        rows = self.con.execute(
            f"select count(*) over (), value, record from ({sql}) order by record limit 1"
        ).fetchall()
        if rows:
            count, value, record = rows[0]
            raise self.fail(message.format(count=count, value=value, record=record))

    # -- the model ---------------------------------------------------------------------
    def build_lines(self) -> int:
        """`lines`: the export's rows, mapped (one pass over the file), numbered by
        `record` (1 = the first row after the header); returns the number of rows."""
        fields = ORDER_FIELDS + LINE_FIELDS + ("transaction_id",)
        mapped = ",\n".join(
            f"{_expression(self.sources.get(f), self.mapping.formula_quote)} as {f}" for f in fields
        )
        raw = ",\n".join(
            f"{_raw_expression(self.sources[f])} as {f}_as_written"
            for f in ("transaction_id", "customer_id", "product_id")
        )
        try:
            # Only the mapped columns are read into the table (an export may have dozens more).
            self.con.execute(
                f"create table mapped_lines as select {mapped}, {raw} from {self.reader}",
                self.parameters,
            )
        except duckdb.Error as error:
            raise self._unreadable(error) from None
        amount = "unit_price" if "unit_price" in self.sources else "line_total"
        required = ("product_id", "quantity", amount)
        rows, blank_ids, *blanks = self.con.execute(
            "select count(*), count(*) filter (where transaction_id is null), "
            + ", ".join(f"count(*) filter (where {key} is null)" for key in required)
            + " from mapped_lines"
        ).fetchall()[0]
        if not rows:
            raise self.fail("the export has no rows")
        # The table keeps the file's order: its rowid is the data row's position.
        if blank_ids:
            # Lines without an order id continue the order above them.
            self.con.execute("""
                create table lines as
                select rowid + 1 as record, *, last_value(transaction_id ignore nulls) over (
                    order by rowid rows between unbounded preceding and current row
                ) as order_key
                from mapped_lines
            """)
            self.con.execute("drop table mapped_lines")
            self.check_none(
                "select record, cast(null as varchar) as value from lines where order_key is null",
                f"{{count}} row(s) before the first order id in "
                f"{self.source_name('transaction_id')} (first: record {{record}})",
            )
        else:
            self.con.execute("""
                create view lines as
                select rowid + 1 as record, *, transaction_id as order_key from mapped_lines
            """)
        for key, blank in zip(required, blanks, strict=True):
            if blank:
                self.check_none(
                    f"select record, null as value from lines where {key} is null",
                    f"{{count}} row(s) without a value in {self.source_name(key)} (first: "
                    "record {record})",
                )
        self.line_count = int(rows)
        return self.line_count

    def _moment(self) -> tuple[str, str, str]:
        """SQL for the order's timestamp, the field it comes from and the format shown."""
        m = self.mapping
        if "transaction_datetime" in self.sources:
            formats = list(m.datetime_format)
            value = "transaction_datetime"
            if any(f.rstrip().endswith("%z") for f in formats):
                # Keep the shop's wall-clock time: drop the UTC offset from format and value.
                formats = [f.rstrip().removesuffix("%z").rstrip() for f in formats]
                value = r"regexp_replace(transaction_datetime, '\s*(Z|[+-]\d{2}:?\d{2})$', '')"
            listed = "[" + ", ".join(string_literal(f) for f in formats) + "]"
            return (
                f"try_strptime({value}, {listed})",
                "transaction_datetime",
                " or ".join(m.datetime_format),
            )
        time_text = "coalesce(transaction_time, '00:00:00')"
        time_format = m.time_format if "transaction_time" in self.sources else "%H:%M:%S"
        moment = (
            f"cast(try_strptime(transaction_date, {string_literal(m.date_format)}) as date)"
            f" + cast(try_strptime({time_text}, {string_literal(time_format)}) as time)"
        )
        return moment, "transaction_date", m.date_format

    def _first_values(self) -> None:
        """`orders_raw`: per order, each order field from the first line that has it, and
        whether its lines disagree. One pass keeps the first line whole; the rare field
        blank on an order's first line but given on a later one is filled in afterwards."""
        given = [f for f in ORDER_FIELDS if f in self.sources]
        first_line = ", ".join(
            [
                "order_as_written := transaction_id_as_written",
                "customer_as_written := customer_id_as_written",
            ]
            + [f"{f} := {f}" for f in given]
        )
        # Two different values always hash differently; equal hashes on different values
        # (a 64-bit collision) would hide a disagreement, never invent one.
        checks = ",\n".join(
            f"min(hash({f})) filter (where {f} is not null) as {f}__low, "
            f"max(hash({f})) filter (where {f} is not null) as {f}__high"
            for f in given
        )
        fields = ",\n".join(
            f"first_line.{f} as {f}, {f}__low <> {f}__high as {f}__differs"
            if f in given
            else f"cast(null as varchar) as {f}, false as {f}__differs"
            for f in ORDER_FIELDS
        )
        self.con.execute(f"""
            create table orders_raw as
            with grouped as (
                select
                    order_key, min(record) as record,
                    arg_min(struct_pack({first_line}), record) as first_line,
                    {checks}
                from lines group by order_key
            )
            select
                order_key, record,
                first_line.order_as_written,
                case when first_line.customer_id is not null
                    then first_line.customer_as_written end as customer_as_written,
                {fields},
                -- Some line has the field (a blank first line is filled in below).
                {", ".join(f"{f}__low is not null as {f}__given" for f in given)}
            from grouped
        """)
        late = self.con.execute(
            "select "
            + ", ".join(f"count(*) filter (where {f} is null and {f}__given)" for f in given)
            + " from orders_raw"
        ).fetchall()[0]
        for f, orders in zip(given, late, strict=True):
            if not orders:
                continue
            written = (
                ", customer_as_written = later.customer_as_written" if f == "customer_id" else ""
            )
            self.con.execute(f"""
                update orders_raw set {f} = later.value{written}
                from (
                    select order_key, arg_min({f}, record) as value,
                        arg_min(customer_id_as_written, record) as customer_as_written
                    from lines
                    where {f} is not null and order_key in
                        (select order_key from orders_raw where {f} is null and {f}__given)
                    group by order_key
                ) as later
                where orders_raw.order_key = later.order_key
            """)
        self.con.execute(
            "alter table orders_raw drop column "
            + "; alter table orders_raw drop column ".join(f"{f}__given" for f in given)
        )

    def build_orders(self) -> None:
        self._first_values()
        moment, source_key, shown = self._moment()
        has_time = "transaction_datetime" in self.sources or "transaction_time" in self.sources
        self.con.execute(f"""
            create table sorted_orders as
            select
                *,
                -- The time is known when the export gives one (a date alone has none).
                {"true" if has_time else "false"} and (contains(transaction_datetime, ':')
                    or transaction_time is not null) as time_known,
                coalesce(lower(customer_id), 'order ' || order_key) as customer_key
            from (select *, cast({moment} as timestamp) as ordered_at from orders_raw)
            -- Transactions are numbered by time, then by the shop's own order id.
            order by ordered_at, order_key
        """)
        # The table keeps the sorted order: its rowid is the transaction's rank.
        self.con.execute(
            "create view orders as select rowid + 1 as order_rank, * from sorted_orders"
        )
        self.check_none(
            f"select record, {source_key} as value from orders where ordered_at is null",
            f"{{count}} order(s) with a date in {self.source_name(source_key)} not matching "
            f"{shown!r} (first: {{value!r}} at record {{record}})",
        )

    def _amount_sql(self) -> tuple[str, str]:
        """SQL for a line's net amount (after discount) and its unit price before discount,
        from what the export gives (docs/import.md, Amounts)."""
        m = self.mapping
        q, p = "quantity", "unit_price"
        # The discount as the share of the gross kept: amount, fraction or percentage.
        kept = {
            "amount": None,
            "fraction": "(1 - discount_value)",
            "percentage": "(1 - discount_value / 100)",
        }[m.discount]
        if "unit_price" in self.sources:
            line_gross = {
                "before_discount": f"{q} * {p}",
                "line_before_discount": p,
                "after_discount": (
                    f"({q} * {p} + discount_value)" if kept is None else f"{q} * {p} / {kept}"
                ),
            }[m.price]
            net = (
                f"{q} * {p}"
                if m.price == "after_discount"
                else (
                    f"{line_gross} - discount_value" if kept is None else f"{line_gross} * {kept}"
                )
            )
        else:
            net = "line_total_value"
            line_gross = "net + discount_value" if kept is None else f"net / nullif({kept}, 0)"
        if "line_total" in self.sources:
            net = "line_total_value"
        return net, line_gross

    def _check_line_values(self) -> None:
        """Every mapped amount parses: one scan counts the bad values of each column; the
        first bad one is shown for a column that has any."""
        parsed = {
            "quantity": _whole_number("quantity"),
            "unit_price": _number("unit_price"),
            "discount": _number("discount", 6),
            "line_total": _number("line_total"),
            "cost": _number("cost"),
            "line_profit": _number("line_profit"),
            "margin": _number("margin", 6),
        }
        # A blank amount is not a number either; other blanks are unknown values.
        checks = [
            (
                key,
                f"{value} is null"
                if key in ("unit_price", "line_total")
                else f"{key} is not null and {value} is null",
                "not a whole number" if key == "quantity" else "not a number",
            )
            for key, value in parsed.items()
        ]
        checks += [("quantity", f"{parsed['quantity']} < 1", "below 1")] + [
            (key, f"{parsed[key]} < 0", "negative") for key in ("unit_price", "line_total")
        ]
        checks = [c for c in checks if c[0] in self.sources]
        counts = self.con.execute(
            "select "
            + ", ".join(f"count(*) filter (where {condition})" for _, condition, _ in checks)
            + " from lines"
        ).fetchall()[0]
        for (key, condition, what), bad in zip(checks, counts, strict=True):
            if bad:
                self.check_none(
                    f"select record, {key} as value from lines where {condition}",
                    f"{{count}} value(s) in {self.source_name(key)} {what} "
                    f"(first: {{value!r}} at record {{record}})",
                )

    def build_items(self) -> None:
        m = self.mapping
        net, line_gross = self._amount_sql()
        self._check_line_values()
        # Amounts stay exact decimals with 4 places (an export's own precision): divisions
        # (derived prices) go through doubles, 6 places first to drop binary noise.
        self.con.execute(f"""
            create table item_amounts as
            with ranks as (
                -- Items are numbered by transaction, then by their row in the export
                -- (ranked on the two keys alone: a window over whole rows sorts them all).
                select lines.record,
                    row_number() over (order by orders.order_rank, lines.record) as line_rank
                from lines inner join orders on lines.order_key = orders.order_key
            ),
            item_values as (
                select
                    lines.record,
                    lines.order_key,
                    orders.order_rank,
                    orders.customer_key,
                    orders.ordered_at,
                    orders.order_as_written,
                    lines.product_id as product_key,
                    lines.product_id_as_written,
                    lines.product_name, lines.category, lines.sub_category, lines.brand,
                    lines.supplier_id,
                    {_number("lines.cost")} as cost_value,
                    {_number("lines.line_profit")} as profit_value,
                    {_number("lines.margin", 6)} as margin_value,
                    try_cast(lines.stock_quantity as bigint) as stock_value,
                    -- Whole numbers (_check_line_values refused any other).
                    try_cast(lines.quantity as integer) as quantity,
                    {_number("lines.unit_price")} as unit_price,
                    -- A discount amount written as negative (-5.00) is the same discount.
                    abs({_number("coalesce(lines.discount, '0')", 6)}) as discount_value,
                    {_number("lines.line_total")} as line_total_value,
                    ranks.line_rank
                from lines
                inner join orders on lines.order_key = orders.order_key
                inner join ranks on lines.record = ranks.record
            ),
            netted as (
                select *, cast({net} as decimal(18, 4)) as net from item_values
            )
            select
                *,
                cast(round(round(cast({line_gross} as double) / quantity, 6), 4)
                    as decimal(18, 4)) as export_unit_price
            from netted
        """)
        # The export's own total of line sales after discount (before any spread below).
        self.export_total = self.scalar("select sum(net) from item_amounts")
        self.check_none(
            "select record, cast(net as varchar) as value from item_amounts "
            "where net < 0 or net is null",
            "{count} line(s) whose discount exceeds the line (first: net {value} at record "
            "{record})",
        )
        self.check_none(
            "select record, cast(net as varchar) as value from item_amounts "
            "where export_unit_price is null",
            "{count} line(s) whose unit price cannot be derived (a 100 % discount and no unit "
            "price; first: net {value} at record {record})",
        )
        if m.order_discount == "to_subtotal":
            self._spread_order_discounts()
        self._represent_exactly()

    def _spread_order_discounts(self) -> None:
        """An order discount not shown on the lines (the lines add up to more than the
        order's subtotal) is spread over the order's lines in proportion to their net
        amounts, in whole cents (largest remainders get the odd cents)."""
        self.con.execute("""
            create table order_discounts as
            with order_totals as (
                select
                    a.order_key,
                    sum(a.net) as lines_net,
                    try_cast(any_value(o.order_subtotal) as decimal(18, 2)) as subtotal
                from item_amounts as a
                inner join orders as o on a.order_key = o.order_key
                group by a.order_key
            ),
            residuals as (
                select order_key, lines_net, cast((lines_net - subtotal) * 100 as bigint) as cents
                from order_totals
                where subtotal >= 0 and subtotal < lines_net
            ),
            shares as (
                select
                    a.record, a.order_key, a.net, r.cents,
                    r.cents * cast(a.net as double) / cast(r.lines_net as double) as exact_share
                from item_amounts as a
                inner join residuals as r on a.order_key = r.order_key
            ),
            floored as (
                select
                    *,
                    floor(exact_share) as base_cents,
                    cents - sum(floor(exact_share)) over (partition by order_key) as odd_cents,
                    row_number() over (
                        partition by order_key
                        order by net > 0 desc, exact_share - floor(exact_share) desc, record
                    ) as odd_rank
                from shares
            )
            select
                record,
                cast(base_cents + case when odd_rank <= odd_cents then 1 else 0 end as bigint)
                    as cents_off
            from floored
        """)
        self.con.execute("""
            update item_amounts
            set net = item_amounts.net - cast(d.cents_off as decimal(18, 2)) / 100
            from order_discounts as d
            where item_amounts.record = d.record
        """)

    def _represent_exactly(self) -> None:
        """Choose unit_price (4 dp) and discount_percentage (2 dp) so that the pipeline's
        `round(quantity * unit_price * (100 - discount) * 0.01, 2)` is within 0.01 of the
        line's net amount, which the pipeline then keeps as given (4 dp): the export's unit
        price with the discount nearest the real one (most lines), else the unit price that
        gives the net at that discount, else the best of the neighbouring discounts."""
        formula = "round(quantity * u * (100 - d) * 0.01, 2)"
        real_discount = (
            "cast(round(least(greatest(100 * (1 - cast(net as double) / (quantity * "
            "cast(greatest(export_unit_price, 0.01) as double))), 0), 100), 2) as decimal(5, 2))"
        )
        # The unit price (4 dp) that gives the net at discount d.
        price_at_discount = (
            "cast(round(cast(net as double) / (quantity * (1 - cast(d as double) / 100)), 4) "
            "as decimal(12, 4))"
        )
        # 1. The export's unit price (a free item: 0.01 at 100 %), 2. else the unit price
        #    that gives the net at the real discount: one candidate of each per line.
        at = "round(quantity * {u} * (100 - d) * 0.01, 2)"
        self.con.execute(f"""
            create table item_prices as
            with candidates as (
                select record, quantity, net, export_unit_price,
                    cast(greatest(export_unit_price, 0.01) as decimal(12, 4)) as exported,
                    {real_discount} as d
                from item_amounts
            ),
            priced as (
                select *,
                    case when d < 100 then {price_at_discount} end as derived
                from candidates
            ),
            checked as (
                select *,
                    abs({at.format(u="exported")} - net) <= 0.01 as exported_fits,
                    derived > 0 and abs({at.format(u="derived")} - net) <= 0.01 as derived_fits
                from priced
            )
            select
                record,
                case when exported_fits then exported else derived end as unit_price,
                d as discount_percentage,
                not exported_fits and derived <> export_unit_price as price_adjusted
            from checked
            where exported_fits or derived_fits
        """)
        if self.scalar("select count(*) from item_prices") == self.line_count:
            return
        # 3. The rest: the best of seven neighbouring discounts.
        self.con.execute(f"""
            insert into item_prices
            with open_lines as (
                select record, quantity, net, export_unit_price, {real_discount} as d0
                from item_amounts
                where record not in (select record from item_prices)
            ),
            candidates as (
                select record, quantity, net, export_unit_price,
                    cast(d0 + step * 0.01 as decimal(5, 2)) as d, abs(step) as preference
                from open_lines, range(-3, 4) as steps(step)
                where d0 + step * 0.01 between 0 and 100 and (d0 + step * 0.01 < 100 or net = 0)
            ),
            priced as (select *, {price_at_discount} as u from candidates)
            select
                record,
                arg_min(u, abs({formula} - net) * 1000 + preference),
                arg_min(d, abs({formula} - net) * 1000 + preference),
                arg_min(u, abs({formula} - net) * 1000 + preference)
                    <> any_value(export_unit_price)
            from priced
            where u > 0 and abs({formula} - net) <= 0.01
            group by record
        """)
        self.check_none(
            "select record, cast(net as varchar) as value from item_amounts "
            "where record not in (select record from item_prices)",
            "{count} line(s) whose net amount cannot be written exactly (first: {value} at "
            "record {record})",
        )

    def _cost_sql(self) -> str:
        """SQL (over the product's lines) for its cost per unit: the quantity-weighted
        average of the export's unit costs, or of (net - profit) / quantity from line
        profits or margins, so that each product's profit adds up to the export's."""
        m = self.mapping
        line_cost = {
            "cost": "v.cost_value * v.quantity",
            "line_profit": "v.net - v.profit_value",
            "margin": "v.net - v.net * v.margin_value"
            + (" / 100" if m.margin == "percentage" else ""),
        }
        for key, total in line_cost.items():
            if key in self.sources:
                known = {"cost": "v.cost_value", "line_profit": "v.profit_value"}.get(
                    key, "v.margin_value"
                )
                return (
                    f"sum({total}) filter (where {known} is not null) / "
                    f"nullif(sum(v.quantity) filter (where {known} is not null), 0)"
                )
        return "cast(null as double)"

    def build_entities(self) -> None:
        m = self.mapping
        for table, column, translation in (
            ("category_map", "category", m.categories),
            ("payment_map", "method", m.payment_methods),
        ):
            self.con.execute(f"create table {table} (source varchar, {column} varchar)")
            if translation:
                self.con.executemany(
                    f"insert into {table} values (lower(trim(?)), ?)", list(translation.items())
                )
        if "full_name" in self.sources and "first_name" not in self.sources:
            first = "split_part(full_name, ' ', 1)"
            last = "nullif(trim(substr(full_name, length(split_part(full_name, ' ', 1)) + 2)), '')"
        else:
            first, last = "first_name", "last_name"
        names = {"first_name", "last_name"} if "full_name" in self.sources else set()
        latest = ",\n".join(
            f"arg_max({a}, order_rank) filter (where {a} is not null) as {a}, "
            f"min({a}) <> max({a}) as {a}__differs"
            if a in self.sources or a in names
            else f"cast(null as varchar) as {a}, false as {a}__differs"
            for a in CUSTOMER_ATTRIBUTES
        )
        registration = (
            f"try_strptime(registration_date, {string_literal(m.date_format)})"
            if "registration_date" in self.sources
            else "null"
        )
        # Customers: every attribute from the latest order that has it.
        self.con.execute(f"""
            create table customers_resolved as
            with per_order as (
                select
                    customer_key, order_rank, record, customer_as_written,
                    lower(email) as email,
                    {first} as first_name, {last} as last_name,
                    phone, city, state, country, age_group,
                    cast({registration} as date) as registration_value
                from orders
            )
            select
                customer_key,
                min(order_rank) as first_rank,
                min(record) as record,
                arg_min(customer_as_written, order_rank) as customer_as_written,
                -- The export's registration date (the earliest it gives), else unknown.
                min(registration_value) as registration_date,
                max(order_rank) as last_rank,
                {latest}
            from per_order
            group by customer_key
        """)
        # One email, several customers: the customer whose latest order is the most recent
        # keeps it; the others get none (the email stays in conflicts.csv).
        self.con.execute("""
            create table shared_emails as
            select
                customer_key, email,
                row_number() over (partition by email order by last_rank desc) as email_rank,
                count(*) over (partition by email) as sharing
            from customers_resolved where email is not null
        """)
        self.con.execute("""
            update customers_resolved set email = null
            from shared_emails as s
            where customers_resolved.customer_key = s.customer_key and s.email_rank > 1
        """)
        product_latest = ",\n".join(
            f"arg_max(v.{a}, v.line_rank) filter (where v.{a} is not null) as {a}, "
            f"min(v.{a}) <> max(v.{a}) as {a}__differs"
            if a in self.sources
            else f"cast(null as varchar) as {a}, false as {a}__differs"
            for a in PRODUCT_ATTRIBUTES
        )
        # Products: name, category, brand, price from the latest line that has them.
        self.con.execute(f"""
            create table products_resolved as
            select
                v.product_key,
                min(v.line_rank) as first_rank,
                min(v.record) as record,
                arg_min(v.product_id_as_written, v.line_rank) as product_as_written,
                -- The exported unit price of the latest line, in cents (a free item: 0.01).
                cast(greatest(round(arg_max(v.export_unit_price, v.line_rank), 2), 0.01)
                    as decimal(12, 2)) as price,
                min(round(v.export_unit_price, 2)) <> max(round(v.export_unit_price, 2))
                    as price__differs,
                cast(round({self._cost_sql()}, 2) as decimal(12, 2)) as derived_cost,
                min(v.cost_value) <> max(v.cost_value) as cost__differs,
                arg_max(v.stock_value, v.line_rank) filter (where v.stock_value is not null)
                    as stock_quantity,
                {product_latest}
            from item_amounts as v
            group by v.product_key
        """)
        if m.cost_ratio is not None:
            # Asked for explicitly: cost = a share of the price, rounded down (cost < price).
            ratio = string_literal(repr(m.cost_ratio))
            self.con.execute(
                "update products_resolved set derived_cost = "
                f"cast(floor(price * cast({ratio} as double) * 100) / 100 as decimal(12, 2))"
            )
        self.con.execute("""
            alter table products_resolved add column cost decimal(12, 2);
            update products_resolved set cost = derived_cost
            where derived_cost >= 0 and derived_cost < price;
        """)

        def ident(entity: str, number: str, count: int) -> str:
            prefix, width = ID_FORMATS[entity]
            width = max(width, len(str(count)))
            return f"'{prefix}' || lpad(cast({number} as varchar), {width}, '0')"

        counts = {
            "customers": int(self.scalar("select count(*) from customers_resolved")),
            "products": int(self.scalar("select count(*) from products_resolved")),
            "transactions": int(self.scalar("select count(*) from orders")),
            "transaction_items": int(self.scalar("select count(*) from item_amounts")),
        }
        self.counts = counts
        # Ids by first appearance: customers and products in the order of their first
        # transaction (then the shop's key), transactions by time, items by transaction.
        customer_number = "row_number() over (order by first_rank, customer_key)"
        product_number = "row_number() over (order by first_rank, product_key)"
        customer_id = ident("customers", "number", counts["customers"])
        product_id = ident("products", "number", counts["products"])
        transaction_id = ident("transactions", "o.order_rank", counts["transactions"])
        item_id = ident("transaction_items", "v.line_rank", counts["transaction_items"])
        item_transaction_id = ident("transactions", "v.order_rank", counts["transactions"])
        self.con.execute(f"""
            create table customer_ids as
            select customer_key, number, {customer_id} as customer_id
            from (select customer_key, {customer_number} as number from customers_resolved)
        """)
        self.con.execute(f"""
            create table product_ids as
            select product_key, number, {product_id} as product_id
            from (select product_key, {product_number} as number from products_resolved)
        """)
        # Unknown stays unknown: a field the export lacks is NULL (an empty CSV value).
        self.con.execute("""
            create table out_customers as
            select
                ids.customer_id, c.first_name, c.last_name, c.email, c.phone,
                c.registration_date, c.city, c.state, c.country, c.age_group
            from customers_resolved as c
            inner join customer_ids as ids on c.customer_key = ids.customer_key
            order by ids.customer_id
        """)
        self.con.execute("""
            create table out_products as
            select
                ids.product_id,
                -- The shop's product id names a product the export gives no name for.
                coalesce(p.product_name, p.product_key) as product_name,
                coalesce(
                    (select category from category_map where source = lower(trim(p.category))),
                    p.category
                ) as category,
                p.sub_category,
                p.price,
                p.cost,
                p.brand,
                cast(p.stock_quantity as varchar) as stock_quantity,
                p.supplier_id
            from products_resolved as p
            inner join product_ids as ids on p.product_key = ids.product_key
            order by ids.product_id
        """)
        self.con.execute(f"""
            create table out_items as
            select
                {item_id} as item_id,
                {item_transaction_id} as transaction_id,
                ids.product_id,
                v.quantity,
                p.unit_price,
                p.discount_percentage,
                v.net as line_total,
                v.line_rank,
                v.order_key,
                v.order_as_written,
                v.record
            from item_amounts as v
            inner join item_prices as p on v.record = p.record
            inner join product_ids as ids on v.product_key = ids.product_key
        """)
        self.con.execute(f"""
            create table out_transactions as
            with totals as (
                select order_key, sum(line_total) as total_amount
                from out_items group by order_key
            )
            select
                {transaction_id} as transaction_id,
                ids.customer_id,
                cast(o.ordered_at as date) as transaction_date,
                case when o.time_known then strftime(o.ordered_at, '%H:%M:%S') end
                    as transaction_time,
                coalesce(
                    (select method from payment_map
                     where source = lower(trim(o.payment_method))),
                    o.payment_method
                ) as payment_method,
                o.shipping_address,
                totals.total_amount,
                o.shipping_city,
                o.shipping_state,
                o.shipping_postal_code,
                o.shipping_country,
                o.order_rank,
                o.order_key,
                o.order_as_written,
                o.record
            from orders as o
            inner join customer_ids as ids on o.customer_key = ids.customer_key
            inner join totals on totals.order_key = o.order_key
        """)

    # -- conflicts ---------------------------------------------------------------------
    def _conflict_lineage(self) -> None:
        """`conflict_lines`: every line (product attributes) or order (customer attributes)
        whose value differs from the one kept, with the value it was sold under."""
        parts = [
            # The columns, for an export without any conflict.
            "select cast(null as varchar) as entity, cast(null as varchar) as id, "
            "cast(null as varchar) as source_id, cast(null as varchar) as attribute, "
            "cast(null as varchar) as value, cast(null as varchar) as kept, "
            "cast(null as bigint) as source_record where false"
        ]
        for a in PRODUCT_ATTRIBUTES:
            if not self.scalar(f"select count(*) from products_resolved where {a}__differs"):
                continue
            parts.append(f"""
                select 'transaction_items' as entity, i.item_id as id,
                    v.product_id_as_written as source_id, 'products.{a}' as attribute,
                    v.{a} as value, r.{a} as kept, v.record as source_record
                from item_amounts as v
                inner join products_resolved as r on v.product_key = r.product_key
                inner join out_items as i on v.record = i.record
                where r.{a}__differs and v.{a} is not null and v.{a} <> r.{a}
            """)
        for a in CUSTOMER_ATTRIBUTES:
            if not self.scalar(f"select count(*) from customers_resolved where {a}__differs"):
                continue
            value = "lower(o.email)" if a == "email" else f"o.{a}"
            parts.append(f"""
                select 'transactions', t.transaction_id, o.order_as_written,
                    'customers.{a}', {value}, r.{a}, o.record
                from orders as o
                inner join customers_resolved as r on o.customer_key = r.customer_key
                inner join out_transactions as t on o.order_key = t.order_key
                where r.{a}__differs and {value} is not null
                    and {value} is distinct from r.{a}
            """)
        self.con.execute(
            "create table conflict_lines as " + " union all ".join(parts) + " order by all"
        )

    def _examples(self, sql: str) -> list[str]:
        return [row[0] for row in self.con.execute(sql + " limit 5").fetchall()]

    def conflicts(self) -> list[Conflict]:
        """Per attribute: keys with more than one value, and up to five examples."""
        found: list[Conflict] = []
        tables = {
            "customers": ("customers_resolved", "customer_as_written", CUSTOMER_ATTRIBUTES),
            "products": (
                "products_resolved",
                "product_as_written",
                (*PRODUCT_ATTRIBUTES, "price", "cost"),
            ),
        }
        for entity, (table, key, attributes) in tables.items():
            for a in attributes:
                keys = int(self.scalar(f"select count(*) from {table} where {a}__differs"))
                if not keys:
                    continue
                kept = "derived_cost" if a == "cost" else a
                examples = self._examples(f"""
                    select {key} || ': kept ' || coalesce(cast({kept} as varchar), 'unknown')
                    from {table} where {a}__differs order by {key}
                """)
                if entity == "customers":
                    value = {"email": "lower(o.email)"}.get(a, f"o.{a}")
                    if a in ("first_name", "last_name") and "full_name" in self.sources:
                        value = "o.full_name"
                    examples = self._examples(f"""
                        select r.customer_as_written || ': '
                            || string_agg(distinct {value}, ' | ' order by {value})
                            || ' -> ' || r.{a}
                        from customers_resolved as r
                        inner join orders as o on o.customer_key = r.customer_key
                        where r.{a}__differs and {value} is not null
                        group by r.customer_as_written, r.{a} order by r.customer_as_written
                    """)
                if a in PRODUCT_ATTRIBUTES:
                    examples = self._examples(f"""
                        select r.product_as_written || ': '
                            || string_agg(distinct v.{a}, ' | ' order by v.{a})
                            || ' -> ' || r.{a}
                        from products_resolved as r
                        inner join item_amounts as v on v.product_key = r.product_key
                        where r.{a}__differs and v.{a} is not null
                        group by r.product_as_written, r.{a} order by r.product_as_written
                    """)
                found.append(Conflict(f"{entity}.{a}", keys, CONFLICT_RULE, examples))
        shared = int(
            self.scalar("select count(distinct email) from shared_emails where sharing > 1")
        )
        if shared:
            examples = self._examples("""
                select s.email || ': ' || string_agg(c.customer_as_written, ' | '
                    order by s.email_rank) || ' -> '
                    || arg_min(c.customer_as_written, s.email_rank)
                from shared_emails as s
                inner join customers_resolved as c on s.customer_key = c.customer_key
                where s.sharing > 1 group by s.email order by s.email
            """)
            found.append(Conflict("customers.shared_email", shared, SHARED_EMAIL_RULE, examples))
        for a in ORDER_FIELDS:
            if a in self.sources:
                keys = int(self.scalar(f"select count(*) from orders where {a}__differs"))
                if keys:
                    examples = self._examples(
                        f"select order_as_written || ': kept ' || {a} from orders "
                        f"where {a}__differs order by order_as_written"
                    )
                    found.append(
                        Conflict(f"orders.{a}", keys, "the order's first line wins", examples)
                    )
        return found

    # -- writing -----------------------------------------------------------------------
    def write(self, out: Path) -> None:
        self._conflict_lineage()
        out.mkdir(parents=True, exist_ok=True)
        for entity, columns in RAW_COLUMNS.items():
            table = {"transaction_items": "out_items"}.get(entity, f"out_{entity}")
            order = {"transaction_items": "line_rank", "transactions": "order_rank"}.get(
                entity, columns[0]
            )
            target = out / f"{entity}.csv"
            self.con.execute(
                f"copy (select {', '.join(columns)} from {table} order by {order}) "
                f"to {string_literal(target)} (header, delimiter ',')"
            )
        # The shop's ids exactly as written (the spelling where each first appears), by
        # entity and id (an entity's ids have one width: their numbers sort the same).
        self.con.execute(f"""
            copy (
                select entity, id, source_id, source_record from (
                    select 'customers' as entity, ids.customer_id as id,
                           coalesce(c.customer_as_written, c.customer_key) as source_id,
                           c.record as source_record, ids.number
                    from customer_ids as ids
                    inner join customers_resolved as c on ids.customer_key = c.customer_key
                    union all
                    select 'products', ids.product_id, p.product_as_written, p.record,
                        ids.number
                    from product_ids as ids
                    inner join products_resolved as p on ids.product_key = p.product_key
                    union all
                    select 'transactions', transaction_id, order_as_written, record, order_rank
                    from out_transactions
                    union all
                    select 'transaction_items', item_id, order_as_written, record, line_rank
                    from out_items
                )
                order by entity, number
            ) to {string_literal(out / "ids.csv")} (header, delimiter ',')
        """)
        self.con.execute(
            f"copy conflict_lines to {string_literal(out / 'conflicts.csv')} "
            "(header, delimiter ',')"
        )

    def _export_profit(self) -> str | None:
        """The export's own profit total (from its profit, margin or unit-cost column)."""
        profit = {
            "line_profit": "v.profit_value",
            "margin": "v.net * v.margin_value"
            + (" / 100" if self.mapping.margin == "percentage" else ""),
            "cost": "v.net - v.cost_value * v.quantity",
        }
        for key, expression in profit.items():
            if key in self.sources:
                return str(self.scalar(f"select sum({expression}) from item_amounts as v"))
        return None

    def _unknown_fields(self) -> list[str]:
        """Contract fields the mapping does not give: unknown (NULL) in every row."""
        given = set(self.sources) | {"customer_id"}
        if "full_name" in self.sources:
            given |= {"first_name", "last_name"}
        if "transaction_datetime" in self.sources:
            given.add("transaction_time")
        if self.mapping.cost_ratio is not None or given & {"line_profit", "margin"}:
            given.add("cost")
        candidates = (
            *RAW_COLUMNS["customers"],
            *(c for c in RAW_COLUMNS["products"] if c not in ("product_id", "price")),
            "payment_method",
            "transaction_time",
            "shipping_address",
            *OPTIONAL_COLUMNS["transactions"],
        )
        return [f for f in candidates if f not in given]

    def summary(self, out: Path, rows: int) -> ImportResult:
        details = self.conflicts()
        subtotal = subtotal_total = None
        if "order_subtotal" in self.sources:
            # The export's own order subtotals (items after all discounts), as written.
            subtotal_total = str(
                self.scalar("select sum(try_cast(order_subtotal as decimal(18, 4))) from orders")
            )
            subtotal = int(
                self.scalar("""
                select count(*) from orders as o
                inner join (select order_key, sum(net) as net from item_amounts
                            group by order_key) as n on o.order_key = n.order_key
                where try_cast(o.order_subtotal as decimal(18, 4)) is distinct from n.net
            """)
            )
        priced = "unit_price" in self.sources
        return ImportResult(
            out_dir=out,
            rows_read=rows,
            record_counts=self.counts,
            conflicts={c.attribute: c.keys for c in details},
            export_net_total=str(self.export_total),
            written_total=str(self.scalar("select sum(line_total) from out_items")),
            derived_unit_prices=0 if priced else self.counts["transaction_items"],
            adjusted_unit_prices=int(
                self.scalar("select count(*) from item_prices where price_adjusted")
            )
            if priced
            else 0,
            orders_without_customer=int(
                self.scalar("select count(*) from orders where customer_id is null")
            ),
            subtotal_mismatches=subtotal,
            export_profit_total=self._export_profit(),
            export_subtotal_total=subtotal_total,
            order_discounts_spread=int(
                self.scalar(
                    "select count(distinct order_key) from item_amounts where record in "
                    "(select record from order_discounts where cents_off > 0)"
                )
                if self.mapping.order_discount == "to_subtotal"
                else 0
            ),
            products_without_usable_cost=int(
                self.scalar(
                    "select count(*) from products_resolved "
                    "where derived_cost is not null and cost is null"
                )
            ),
            conflict_details=details,
            ignored_columns=self.ignored,
            unknown_fields=self._unknown_fields(),
        )


def resolve_columns(
    header: list[str], mapping: Mapping, fail: Callable[[str], Exception]
) -> dict[str, Source]:
    """The mapping's columns as named in the header: exactly, else ignoring case and
    surrounding spaces; a column the header lacks raises `fail(message)`."""
    folded = {name.strip().lower(): name for name in header}
    resolved: dict[str, Source] = {}
    for key, source in mapping.columns.items():
        columns = []
        for column in source.columns:
            real = column if column in header else folded.get(column.strip().lower())
            if real is None:
                raise fail(f"column {column!r} (mapped to {key}) is not in the export's header")
            columns.append(real)
        resolved[key] = Source(tuple(columns), source.join)
    return resolved


def import_export(export: Path, mapping: Mapping, out: Path) -> ImportResult:
    """Write customers/products/transactions/transaction_items.csv, ids.csv and
    import_summary.json into `out` from a flat order-line export."""
    started = time.perf_counter()
    importer = _Importer(export, mapping)
    try:
        importer.read()
        rows = importer.build_lines()
        importer.build_orders()
        importer.build_items()
        importer.build_entities()
        importer.write(out)
        result = importer.summary(out, rows)
    except duckdb.Error as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else "unknown"
        raise importer.fail(f"import failed ({first})") from None
    finally:
        importer.con.close()
    result.seconds = round(time.perf_counter() - started, 3)
    summary = {"export_file": str(export), "mapping": mapping.name, **result.as_json()}
    (out / "import_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return result
