"""Turn a flat order-line export into the four raw entity files (SPEC §5).

All the work is DuckDB SQL over `read_csv(all_varchar)`: lines are mapped, order fields
filled down from an order's first line, conflicts resolved (the latest order wins), amounts
represented exactly, ids assigned, and the four CSVs plus ids.csv written. docs/import.md
describes every rule.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from cartwheel.contract import RAW_COLUMNS
from cartwheel.importing.mapping import (
    CATEGORIES,
    DEFAULTABLE,
    LINE_FIELDS,
    ORDER_FIELDS,
    PAYMENT_METHODS,
    Mapping,
    Source,
)
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
class ImportResult:
    out_dir: Path
    rows_read: int
    record_counts: dict[str, int]
    conflicts: dict[str, int]
    export_net_total: str
    written_total: str
    adjusted_unit_prices: int
    orders_without_customer: int
    subtotal_mismatches: int | None
    products_with_default_category: int = 0
    order_discounts_spread: int = 0
    seconds: float = 0.0
    defaults_used: list[str] = field(default_factory=list)

    def warnings(self) -> list[str]:
        """What a user should look at before running the pipeline on the files."""
        notes = []
        if self.orders_without_customer:
            notes.append(
                f"{self.orders_without_customer} order(s) without a customer key: their "
                "customers have no email, so the pipeline will quarantine those orders"
            )
        if self.subtotal_mismatches:
            notes.append(
                f"{self.subtotal_mismatches} order(s) whose lines do not add up to the "
                "export's subtotal (see docs/import.md, order_discount)"
            )
        if self.products_with_default_category:
            notes.append(
                f"{self.products_with_default_category} product(s) got the default category "
                "(add their vendor / type to the mapping's categories:)"
            )
        return notes

    def as_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["out_dir"] = str(self.out_dir)
        data["warnings"] = self.warnings()
        return data


def _quote(column: str) -> str:
    """A quoted identifier for a header name already checked against the export."""
    return '"' + column.replace('"', '""') + '"'


def _expression(source: Source | None) -> str:
    if source is None:
        return "cast(null as varchar)"
    parts = [f"nullif(trim({_quote(c)}), '')" for c in source.columns]
    if source.join:
        return f"nullif(concat_ws(', ', {', '.join(parts)}), '')"
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def _literal(value: str | None) -> str:
    return "cast(null as varchar)" if value is None else string_literal(value)


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
    def read(self) -> int:
        if not self.export.is_file():
            raise self.fail("export file not found (or not a file)")
        try:
            self.con.execute(
                "create table export as select * from read_csv(?, all_varchar = true, "
                "header = true, auto_detect = true, sample_size = -1, encoding = ?)",
                [str(self.export), self.mapping.encoding],
            )
        except duckdb.Error as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else "unknown"
            hint = "; not UTF-8? set options.encoding" if "Line" in first else ""
            raise self.fail(f"cannot read as CSV ({first}{hint})") from None
        header = [row[0] for row in self.con.execute("describe export").fetchall()]
        # Match header names exactly, else ignoring case and surrounding spaces.
        folded = {name.strip().lower(): name for name in header}
        resolved: dict[str, Source] = {}
        for key, source in self.mapping.columns.items():
            columns = []
            for column in source.columns:
                real = column if column in header else folded.get(column.strip().lower())
                if real is None:
                    raise self.fail(
                        f"column {column!r} (mapped to {key}) is not in the export's header"
                    )
                columns.append(real)
            resolved[key] = Source(tuple(columns), source.join)
        self.sources = resolved
        return int(self.scalar("select count(*) from export"))

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
    def build_lines(self) -> None:
        fields = ORDER_FIELDS + LINE_FIELDS + ("transaction_id",)
        mapped = ",\n".join(f"{_expression(self.sources.get(f))} as {f}" for f in fields)
        self.con.execute(f"""
            create table lines as
            with mapped as (
                -- record = data row number in the export (1 = first row after the header)
                select rowid + 1 as record, {mapped} from export
            )
            select
                *,
                -- Lines without an order id continue the order above them.
                last_value(transaction_id ignore nulls) over (
                    order by record rows between unbounded preceding and current row
                ) as order_key
            from mapped
        """)
        self.check_none(
            "select record, cast(null as varchar) as value from lines where order_key is null",
            f"{{count}} row(s) before the first order id in {self.source_name('transaction_id')}"
            " (first: record {record})",
        )
        for key in ("product_id", "quantity", "unit_price"):
            self.check_none(
                f"select record, null as value from lines where {key} is null",
                f"{{count}} row(s) without a value in {self.source_name(key)} (first: record"
                " {record})",
            )

    def build_orders(self) -> None:
        m = self.mapping
        picks = ",\n".join(
            f"arg_min({f}, record) filter (where {f} is not null) as {f}, "
            f"count(distinct {f}) as {f}__values"
            for f in ORDER_FIELDS
        )
        if "transaction_datetime" in self.sources:
            fmt, value = m.datetime_format, "transaction_datetime"
            if fmt.rstrip().endswith("%z"):
                # Keep the shop's wall-clock time: drop the UTC offset from format and value.
                fmt = fmt.rstrip()[:-2].rstrip()
                value = r"regexp_replace(transaction_datetime, '\s*(Z|[+-]\d{2}:?\d{2})$', '')"
            moment = f"try_strptime({value}, {string_literal(fmt)})"
            source_key, shown = "transaction_datetime", m.datetime_format
        else:
            time_text = f"coalesce(transaction_time, {_literal(m.default('transaction_time'))})"
            moment = (
                f"cast(try_strptime(transaction_date, {string_literal(m.date_format)}) as date)"
                f" + cast(try_strptime({time_text}, {string_literal(m.time_format)}) as time)"
            )
            source_key, shown = "transaction_date", m.date_format
        self.con.execute(f"""
            create table orders_raw as
            select order_key, min(record) as record, {picks}
            from lines group by order_key
        """)
        self.con.execute(f"""
            create table orders as
            with parsed as (
                select *, cast({moment} as timestamp) as ordered_at from orders_raw
            )
            select
                *,
                -- Transactions are numbered by time, then by the shop's own order id.
                row_number() over (order by ordered_at, order_key) as order_rank,
                coalesce(lower(customer_id), 'order ' || order_key) as customer_key
            from parsed
        """)
        self.check_none(
            f"select record, {source_key} as value from orders where ordered_at is null",
            f"{{count}} order(s) with a date in {self.source_name(source_key)} not matching "
            f"{shown!r} (first: {{value!r}} at record {{record}})",
        )

    def build_items(self) -> None:
        m = self.mapping
        q, p = "quantity", "unit_price"
        gross_from_net = {
            "amount": "net_raw + discount_value",
            "fraction": "net_raw / nullif(1 - discount_value, 0)",
            "percentage": "net_raw / nullif(1 - discount_value * 0.01, 0)",
        }[m.discount]
        net_from_gross = {
            "amount": "gross - discount_value",
            "fraction": "gross * (1 - discount_value)",
            "percentage": "gross * (1 - discount_value * 0.01)",
        }[m.discount]
        if m.price == "before_discount":
            gross = f"{q} * {p}"
            net = net_from_gross.replace("gross", f"({gross})")
        else:
            gross = gross_from_net.replace("net_raw", f"({q} * {p})")
            net = f"{q} * {p}"
        if "line_total" in self.sources:
            net = "line_total_value"
        self.con.execute(f"""
            create table item_values as
            select
                lines.record,
                lines.order_key,
                orders.order_rank,
                orders.customer_key,
                orders.ordered_at,
                lines.product_id as product_key,
                lines.product_name, lines.category, lines.sub_category, lines.brand,
                lines.supplier_id,
                try_cast(lines.cost as decimal(18, 2)) as cost_value,
                lines.cost as cost_text,
                try_cast(lines.stock_quantity as bigint) as stock_value,
                lines.quantity as quantity_text,
                lines.unit_price as unit_price_text,
                lines.discount as discount_text,
                lines.line_total as line_total_text,
                try_cast(lines.quantity as integer) as {q},
                try_cast(lines.unit_price as decimal(18, 4)) as {p},
                try_cast(coalesce(lines.discount, '0') as decimal(18, 6)) as discount_value,
                try_cast(lines.line_total as decimal(18, 4)) as line_total_value,
                row_number() over (order by orders.order_rank, lines.record) as line_rank
            from lines
            inner join orders on lines.order_key = orders.order_key
        """)
        checks = [
            ("quantity", "quantity is null", "not a whole number"),
            ("quantity", "quantity < 1", "below 1"),
            ("unit_price", "unit_price is null", "not a number"),
            ("unit_price", "unit_price < 0", "negative"),
            ("discount", "discount_value is null", "not a number"),
            (
                "line_total",
                "line_total_text is not null and line_total_value is null",
                "not a number",
            ),
        ]
        for key, condition, what in checks:
            if key in self.sources:
                self.check_none(
                    f"select record, {key}_text as value from item_values where {condition}",
                    f"{{count}} value(s) in {self.source_name(key)} {what} "
                    f"(first: {{value!r}} at record {{record}})",
                )
        self.con.execute(f"""
            create table item_amounts as
            select
                *,
                -- Divisions give doubles: 6 dp first drops binary noise (20.00499.. -> 20.005),
                -- then money is rounded to the cent as a decimal.
                round(cast(round(cast({net} as double), 6) as decimal(18, 6)), 2) as net,
                -- The unit price as exported (before discount).
                round(cast(round(cast({gross} as double) / quantity, 6) as decimal(18, 6)), 2)
                    as export_unit_price
            from item_values
        """)
        self.check_none(
            "select record, cast(net as varchar) as value from item_amounts "
            "where net < 0 or net is null or export_unit_price is null",
            "{count} line(s) whose discount exceeds the line (first: net {value} at record "
            "{record})",
        )
        if self.mapping.order_discount == "to_subtotal":
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
        """Choose unit_price and discount_percentage (2 dp each) so that the pipeline's
        `round(quantity * unit_price * (100 - discount) * 0.01, 2)` equals the export's
        net line exactly; the exported unit price is kept whenever a discount fits."""
        recompute = "round(quantity * u * (100 - d) * 0.01, 2)"
        tiers = [
            # 1. The export's own unit price, with the discounts nearest the real one.
            ("greatest(export_unit_price, 0.01)", "range(0, 1)", "range(-3, 4)", "abs(step)"),
            # 2. Big lines where no 0.01 % discount step lands on the cent: the nearest unit
            #    price that does, with about the real discount (counted as adjusted).
            #    Widening windows: most lines find one within a few cents.
            *(
                (
                    "export_unit_price + j * 0.01",
                    f"range({-width}, {width + 1})",
                    "range(-1, 2)",
                    "1000 + abs(j) * 10 + abs(step)",
                )
                for width in (8, 100, 1000)
            ),
            # 3. Still none: the smallest unit price above net / quantity that does.
            (
                "(greatest(ceil(net * 100 / quantity), 1) + j) / 100.0",
                "range(0, 5000)",
                "range(-1, 2)",
                "100000 + j * 10 + abs(step)",
            ),
        ]
        self.con.execute(
            "create table item_prices (record bigint, unit_price decimal(12, 2), "
            "discount_percentage decimal(5, 2), price_adjusted boolean)"
        )
        for price, tries, steps, preference in tiers:
            self.con.execute(f"""
                insert into item_prices
                with open_lines as (
                    select * from item_amounts
                    where record not in (select record from item_prices)
                ),
                prices as (
                    select record, quantity, net, cast({price} as decimal(12, 2)) as u, j
                    from open_lines, {tries} as tries(j)
                ),
                candidates as (
                    select
                        record, quantity, net, u,
                        -- the discount that would give net, then its 0.01 neighbours
                        cast(round(100 * (1 - cast(net as double)
                            / (quantity * cast(u as double))), 2) + step * 0.01
                            as decimal(5, 2)) as d,
                        {preference} as preference
                    from prices, {steps} as steps(step)
                    where u >= 0.01 and quantity * u >= net
                )
                select
                    record,
                    arg_min(u, preference),
                    arg_min(d, preference),
                    min(preference) >= 1000
                from candidates
                where d between 0 and 100 and {recompute} = net
                group by record
            """)
        self.check_none(
            "select record, cast(net as varchar) as value from item_amounts "
            "where record not in (select record from item_prices)",
            "{count} line(s) whose net amount cannot be written exactly (first: {value} at "
            "record {record})",
        )

    def build_entities(self) -> None:
        m = self.mapping
        # transaction_time's default is applied where the order time is parsed.
        d = {key: _literal(m.default(key)) for key in DEFAULTABLE if key != "transaction_time"}
        self.con.execute("create table category_map (source varchar, category varchar)")
        self.con.executemany(
            "insert into category_map values (lower(trim(?)), ?)",
            [*m.categories.items(), *((c, c) for c in CATEGORIES if c not in m.categories)],
        )
        self.con.execute("create table payment_map (source varchar, method varchar)")
        self.con.executemany(
            "insert into payment_map values (lower(trim(?)), ?)",
            [*m.payment_methods.items(), *((p, p) for p in PAYMENT_METHODS)],
        )
        if "full_name" in self.sources and "first_name" not in self.sources:
            first = "split_part(full_name, ' ', 1)"
            last = "nullif(trim(substr(full_name, length(split_part(full_name, ' ', 1)) + 2)), '')"
        else:
            first, last = "first_name", "last_name"
        latest = ",\n".join(
            f"arg_max({a}, order_rank) filter (where {a} is not null) as {a}, "
            f"count(distinct {a}) as {a}__values"
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
                    customer_key, order_rank, record, ordered_at,
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
                -- Registration: the first order's day unless the export says (earlier).
                least(
                    coalesce(min(registration_value), min(cast(ordered_at as date))),
                    min(cast(ordered_at as date))
                ) as registration_date,
                {latest}
            from per_order
            group by customer_key
        """)
        product_latest = ",\n".join(
            f"arg_max(v.{a}, v.line_rank) filter (where v.{a} is not null) as {a}, "
            f"count(distinct v.{a}) as {a}__values"
            for a in PRODUCT_ATTRIBUTES
        )
        # Products: name, category, brand, price from the latest line that has them.
        self.con.execute(f"""
            create table products_resolved as
            select
                v.product_key,
                min(v.line_rank) as first_rank,
                min(v.record) as record,
                -- The exported unit price of the latest line (a free item: 0.01).
                arg_max(greatest(a.export_unit_price, 0.01), v.line_rank) as price,
                count(distinct a.export_unit_price) as price__values,
                arg_max(v.cost_value, v.line_rank) filter (where v.cost_value is not null)
                    as cost,
                arg_max(v.stock_value, v.line_rank) filter (where v.stock_value is not null)
                    as stock_quantity,
                {product_latest}
            from item_values as v
            inner join item_amounts as a on v.record = a.record
            group by v.product_key
        """)

        def ident(entity: str, number: str, count: int) -> str:
            prefix, width = ID_FORMATS[entity]
            width = max(width, len(str(count)))
            return f"'{prefix}' || lpad(cast({number} as varchar), {width}, '0')"

        counts = {
            "customers": int(self.scalar("select count(*) from customers_resolved")),
            "products": int(self.scalar("select count(*) from products_resolved")),
            "transactions": int(self.scalar("select count(*) from orders")),
            "transaction_items": int(self.scalar("select count(*) from item_values")),
        }
        self.counts = counts
        # Ids by first appearance: customers and products in the order of their first
        # transaction (then the shop's key), transactions by time, items by transaction.
        customer_number = "row_number() over (order by first_rank, customer_key)"
        product_number = "row_number() over (order by first_rank, product_key)"
        customer_id = ident("customers", customer_number, counts["customers"])
        product_id = ident("products", product_number, counts["products"])
        transaction_id = ident("transactions", "o.order_rank", counts["transactions"])
        item_id = ident("transaction_items", "v.line_rank", counts["transaction_items"])
        item_transaction_id = ident("transactions", "v.order_rank", counts["transactions"])
        self.con.execute(f"""
            create table customer_ids as
            select customer_key, {customer_id} as customer_id from customers_resolved
        """)
        self.con.execute(f"""
            create table product_ids as
            select product_key, {product_id} as product_id from products_resolved
        """)
        self.con.execute(f"""
            create table out_customers as
            select
                ids.customer_id,
                coalesce(c.first_name, {d["first_name"]}) as first_name,
                coalesce(c.last_name, {d["last_name"]}) as last_name,
                c.email,
                c.phone,
                c.registration_date,
                coalesce(c.city, {d["city"]}) as city,
                coalesce(c.state, {d["state"]}) as state,
                coalesce(c.country, {d["country"]}) as country,
                coalesce(c.age_group, {d["age_group"]}) as age_group
            from customers_resolved as c
            inner join customer_ids as ids on c.customer_key = ids.customer_key
            order by ids.customer_id
        """)
        ratio = string_literal(repr(self.mapping.cost_ratio))
        self.con.execute(f"""
            create table out_products as
            select
                ids.product_id,
                coalesce(p.product_name, p.product_key) as product_name,
                coalesce(
                    (select category from category_map where source = lower(trim(p.category))),
                    {d["category"]}
                ) as category,
                coalesce(p.sub_category, {d["sub_category"]}) as sub_category,
                p.price,
                -- No cost in the export: a share of the price, rounded down (cost < price).
                coalesce(
                    p.cost,
                    cast(floor(p.price * cast({ratio} as double) * 100) / 100 as decimal(12, 2))
                ) as cost,
                coalesce(p.brand, {d["brand"]}) as brand,
                coalesce(cast(p.stock_quantity as varchar), {d["stock_quantity"]})
                    as stock_quantity,
                coalesce(p.supplier_id, {d["supplier_id"]}) as supplier_id
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
                a.net as line_total,
                v.line_rank,
                v.order_key,
                v.record
            from item_values as v
            inner join item_amounts as a on v.record = a.record
            inner join item_prices as p on v.record = p.record
            inner join product_ids as ids on v.product_key = ids.product_key
        """)
        self.con.execute(f"""
            create table out_transactions as
            with totals as (
                select transaction_id, sum(line_total) as total_amount
                from out_items group by transaction_id
            )
            select
                {transaction_id} as transaction_id,
                ids.customer_id,
                cast(o.ordered_at as date) as transaction_date,
                strftime(o.ordered_at, '%H:%M:%S') as transaction_time,
                coalesce(
                    (select method from payment_map
                     where source = lower(trim(o.payment_method))),
                    {d["payment_method"]}
                ) as payment_method,
                coalesce(o.shipping_address, '') as shipping_address,
                totals.total_amount,
                o.shipping_city,
                o.shipping_state,
                o.shipping_postal_code,
                o.shipping_country,
                o.order_rank,
                o.order_key,
                o.record
            from orders as o
            inner join customer_ids as ids on o.customer_key = ids.customer_key
            inner join totals
                on totals.transaction_id = {transaction_id}
        """)

    # -- writing -----------------------------------------------------------------------
    def write(self, out: Path) -> None:
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
        self.con.execute(f"""
            copy (
                select 'customers' as entity, ids.customer_id as id,
                       c.customer_key as source_id, c.record as source_record
                from customer_ids as ids
                inner join customers_resolved as c on ids.customer_key = c.customer_key
                union all
                select 'products', ids.product_id, p.product_key, p.record
                from product_ids as ids
                inner join products_resolved as p on ids.product_key = p.product_key
                union all
                select 'transactions', transaction_id, order_key, record from out_transactions
                union all
                select 'transaction_items', item_id, order_key, record from out_items
                order by entity, id
            ) to {string_literal(out / "ids.csv")} (header, delimiter ',')
        """)

    def summary(self, out: Path, rows: int) -> ImportResult:
        conflicts: dict[str, int] = {}
        for attribute in CUSTOMER_ATTRIBUTES:
            conflicts[f"customers.{attribute}"] = int(
                self.scalar(
                    f"select count(*) from customers_resolved where {attribute}__values > 1"
                )
            )
        for attribute in (*PRODUCT_ATTRIBUTES, "price"):
            conflicts[f"products.{attribute}"] = int(
                self.scalar(f"select count(*) from products_resolved where {attribute}__values > 1")
            )
        for attribute in ORDER_FIELDS:
            if attribute in self.sources:
                conflicts[f"orders.{attribute}"] = int(
                    self.scalar(f"select count(*) from orders where {attribute}__values > 1")
                )
        subtotal = None
        if "order_subtotal" in self.sources:
            subtotal = int(
                self.scalar("""
                select count(*) from orders as o
                inner join (select order_key, sum(net) as net from item_amounts
                            group by order_key) as n on o.order_key = n.order_key
                where try_cast(o.order_subtotal as decimal(18, 2)) is distinct from n.net
            """)
            )
        defaults_used = sorted(
            key
            for key in (
                "age_group",
                "sub_category",
                "brand",
                "stock_quantity",
                "supplier_id",
                "category",
                "payment_method",
                "cost",
            )
            if key not in self.sources
        )
        return ImportResult(
            out_dir=out,
            rows_read=rows,
            record_counts=self.counts,
            conflicts={k: v for k, v in conflicts.items() if v},
            export_net_total=str(self.scalar("select sum(net) from item_amounts")),
            written_total=str(self.scalar("select sum(line_total) from out_items")),
            adjusted_unit_prices=int(
                self.scalar("select count(*) from item_prices where price_adjusted")
            ),
            orders_without_customer=int(
                self.scalar("select count(*) from orders where customer_id is null")
            ),
            subtotal_mismatches=subtotal,
            order_discounts_spread=int(
                self.scalar(
                    "select count(distinct order_key) from item_values where record in "
                    "(select record from order_discounts where cents_off > 0)"
                )
                if self.mapping.order_discount == "to_subtotal"
                else 0
            ),
            products_with_default_category=int(
                self.scalar(
                    "select count(*) from products_resolved where category is null or "
                    "lower(trim(category)) not in (select source from category_map)"
                )
            ),
            defaults_used=defaults_used,
        )


def import_export(export: Path, mapping: Mapping, out: Path) -> ImportResult:
    """Write customers/products/transactions/transaction_items.csv, ids.csv and
    import_summary.json into `out` from a flat order-line export."""
    started = time.perf_counter()
    importer = _Importer(export, mapping)
    try:
        rows = importer.read()
        if rows == 0:
            raise importer.fail("the export has no rows")
        importer.build_lines()
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
