"""DuckDB-dialect model SQL → PostgreSQL: sqlglot, plus the one list of rewrites it needs.

Models are written once, in DuckDB's dialect of portable SQL. sqlglot translates most of
it, but raises no error for some constructs that then fail on PostgreSQL or — worse —
compute something else. These are the constructs that need per-engine handling; each is
handled here, once, for every statement sent to `PostgresEngine`, by the
sqlglot dialect `CartwheelPostgres` (generator transforms):

- `try_cast(x as T)` (DuckDB: NULL when x does not parse) → `ops.cw_try_*` helper
  functions that accept what DuckDB accepts (*).
- `select * exclude (c)` → the star expanded to explicit columns, read from the catalog.
- `avg(x)` (DuckDB: the sum converted to DOUBLE, divided by the count; PostgreSQL:
  the exact numeric quotient) → `cast(sum(x) as double precision) / count(x)`, also
  as a window function.
- `a / b` (DuckDB: DOUBLE) → sqlglot already writes `cast(a as double precision) / b`.
- `round(x, n)` → `ops.cw_round(x, n)`: PostgreSQL has no round(double, int), its
  round(double) rounds half to even, and DuckDB rounds a double's exact binary value.
- text columns in DDL → `COLLATE "C"`: byte-wise order like DuckDB, whatever the
  server's locale (ORDER BY ties, row_number() keys).
- `create table` of a warehouse table named in `contract.WAREHOUSE_KEYS` → with its
  primary key and followed by `create index if not exists` for the contract's indexes
  (PostgreSQL only: DuckDB's ART indexes slow its bulk inserts and updates).
- the date spine → `Engine.date_spine_sql` (a per-engine SELECT, not a rewrite).
- `initcap(x)` (a DuckDB macro of the same meaning, engines/duckdb.py) → `initcap(x
  collate "default")`: under the `C` collation of text columns PostgreSQL would leave
  non-ASCII letters alone (`ÉMILE` → `ÉMile`); the database's LC_CTYPE (a UTF-8 locale)
  decides instead.
- `trim(x)` (DuckDB removes every Unicode space separator, such as the no-break space;
  PostgreSQL only the ASCII space) → `trim(both '<those characters>' from x)`.
- `create or replace table`, `group by all` → refused with TranslationError: use
  `Engine.build_table`, list the grouping columns.

Together, `/`, `avg` and `round` make PostgreSQL take the same floating-point path as
DuckDB, so a value like 6.175 rounds to the same cent on both (exact numeric rounding
would differ from DuckDB's double rounding on such ties).

(*) Known differences of `try_cast` that cartwheel accepts: DuckDB also reads `1_000` and
`0x10` as integers and `infinity`/`epoch` as dates; on PostgreSQL these stay NULL (so the
row is rejected as unparseable rather than as out of range). `x / 0` is `inf` on DuckDB
and an error on PostgreSQL; models guard their divisors instead.

Every statement a caller sends (`execute`, `query`, `query_arrow`, `build_table`) is
translated; only the engine's own PostgreSQL statements (catalog, locks, COPY, keys) are
not.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlglot
from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import ErrorLevel, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from cartwheel.contract import WAREHOUSE_KEYS
from cartwheel.sqltext import SPACE_SEPARATORS

HELPERS_VERSION = 10

# What DuckDB's casts from text accept (leading and trailing whitespace allowed).
_NUMBER = r"^[ \t\n\r]*[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,4})?[ \t\n\r]*$"
# The usual case (`12`, `12.50`), a part of what _NUMBER accepts, matched first: PostgreSQL
# matches it in about a third of _NUMBER's time (~0.5 against ~1.5 µs a value), and only
# a value it does not match (signed, padded, with an exponent, or no number) tries _NUMBER.
_PLAIN_NUMBER = r"^[0-9]+[.]?[0-9]*$"
_IS_NUMBER = f"(value ~ '{_PLAIN_NUMBER}' or value ~ '{_NUMBER}')"
# The same separator twice; no capture groups and no back-reference: PostgreSQL matches
# such a pattern with `~` in about a microsecond, while `regexp_match` with captures took
# 55-66 microseconds a value (6.6 s for the 100,000 order dates of scale factor 10).
_DATE = (
    r"^[ \t\n\r]*[0-9]{1,7}(?:-[0-9]{1,2}-[0-9]{1,2}|/[0-9]{1,2}/[0-9]{1,2}| [0-9]{1,2} [0-9]{1,2})"
    r"(?:[ T][0-9:.+-]*)?[ \t\n\r]*$"
)
# The usual spelling of a date, `YYYY-MM-DD`, with a month that exists and a day within
# that month's length (29 February in any year): one pattern decides it, inlined, in
# about half the PL/pgSQL reader's time a value (docs/postgres.md).
_ISO_DATE = (
    r"^[0-9]{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-9])"
    r"|(?:0[13-9]|1[0-2])-30|(?:0[13578]|1[02])-31)$"
)

# Helper functions in the project's own schema; no value can make them raise an error.
HELPER_FUNCTIONS = f"""
create or replace function ops.cw_helpers_version() returns integer
language sql immutable as $$ select {HELPERS_VERSION} $$;

-- try_cast helpers. Declared VOLATILE on purpose: the planner then keeps the CTE that
-- parses a column as a step of its own, instead of copying the parsing into every later
-- reference (a validation model reads a parsed date five times). The SQL ones are still
-- inlined within that step. A number's pattern is matched once a value, and the cast made
-- only after the match (a nested CASE); the match costs more than the cast, so a plain
-- number is matched by a cheaper pattern first.
create or replace function ops.cw_try_integer(value text, low numeric, high numeric)
returns numeric language sql volatile as $$
    select case when {_IS_NUMBER} then case
        when round(value::numeric) between low and high then round(value::numeric)
    end end
$$;

create or replace function ops.cw_try_decimal(value text, width integer, places integer)
returns numeric language sql volatile as $$
    select case when {_IS_NUMBER} then case
        when abs(round(value::numeric, places)) < 10::numeric ^ (width - places)
            then round(value::numeric, places)
    end end
$$;

create or replace function ops.cw_try_double(value text) returns double precision
language sql volatile as $$
    select case
        when {_IS_NUMBER} then case
            when abs(value::numeric) < 1e308 then value::numeric::double precision
        end
        when value ~* '^[ \t\n\r]*[+-]?(inf|infinity|nan)[ \t\n\r]*$'
            then trim(value)::double precision
    end
$$;

-- DuckDB reads Y-M-D with '-', '/' or ' ' between the parts, optionally followed by a time.
create or replace function ops.cw_read_date(value text) returns date
language plpgsql volatile strict as $$
declare
    -- Matched: year, month and day are the first three runs of digits, separated by
    -- '-', '/' or ' ' (a time after them starts with ' ' or 'T').
    parts text := translate(btrim(value, E' \\t\\n\\r'), '/ T', '---');
    y integer;
    m integer;
    d integer;
begin
    if value !~ '{_DATE}' then
        return null;
    end if;
    y := split_part(parts, '-', 1)::integer;
    m := split_part(parts, '-', 2)::integer;
    d := split_part(parts, '-', 3)::integer;
    if y between 1 and 294275 and m between 1 and 12 and d >= 1 then
        if d <= extract(day from make_date(y, m, 1) + interval '1 month' - interval '1 day') then
            return make_date(y, m, d);
        end if;
    end if;
    return null;
end
$$;

-- `YYYY-MM-DD` is decided here, inlined: year 0 stays NULL (as cw_read_date leaves it),
-- and 29 February is a date in leap years only; nested so that the cast runs only on a
-- valid date and cannot raise. Every other text (padded, a time after it, another
-- separator, a month or day that does not exist) is read by cw_read_date.
create or replace function ops.cw_try_date(value text) returns date
language sql volatile as $$
    select case
        when value ~ '{_ISO_DATE}' then case
            when substr(value, 1, 4) = '0000' then null
            when substr(value, 6, 5) <> '02-29' then value::date
            when substr(value, 1, 4)::integer % 4 = 0
                and (substr(value, 1, 4)::integer % 100 <> 0
                    or substr(value, 1, 4)::integer % 400 = 0)
                then value::date
        end
        else ops.cw_read_date(value)
    end
$$;

-- DuckDB's round(DOUBLE, n) rounds the double's exact binary value, halves away from
-- zero (487.065 is 487.06499999999999773… and becomes 487.06), and returns the double
-- nearest to the result. Far from a half (the usual case) float arithmetic decides it;
-- near one, the exact value is taken from the IEEE bits: mantissa / 2^shift.
create or replace function ops.cw_round_exact(value double precision, places integer)
returns double precision language plpgsql immutable strict parallel safe as $$
declare
    bits bytea := float8send(value);
    biased integer := ((get_byte(bits, 0) & 127) << 4) | (get_byte(bits, 1) >> 4);
    mantissa numeric := (((get_byte(bits, 1) & 15)::bigint << 48)
        | (get_byte(bits, 2)::bigint << 40) | (get_byte(bits, 3)::bigint << 32)
        | (get_byte(bits, 4)::bigint << 24) | (get_byte(bits, 5)::bigint << 16)
        | (get_byte(bits, 6)::bigint << 8) | get_byte(bits, 7)::bigint)::numeric;
    shift integer := 1074;
    unit numeric;
    scaled numeric;
    whole numeric;
begin
    if biased = 2047 then
        return value;  -- infinity or NaN
    end if;
    if places < 0 then
        return round(value::numeric, places)::double precision;
    end if;
    if biased > 0 then
        mantissa := mantissa + 4503599627370496;  -- the implicit leading bit, 2^52
        shift := 1075 - biased;
    end if;
    if shift <= 0 then
        return value;  -- a whole number already
    end if;
    unit := 2::numeric ^ shift;
    scaled := mantissa * 10::numeric ^ places;
    whole := div(scaled, unit);
    if 2 * (scaled - whole * unit) >= unit then
        whole := whole + 1;
    end if;
    return (sign(value)::numeric * whole / 10::numeric ^ places)::double precision;
end
$$;

create or replace function ops.cw_round(value double precision, places integer)
returns double precision language sql immutable parallel safe as $$
    select case
        -- Nested so that no multiplication can overflow (PostgreSQL raises on that).
        when places between 0 and 15 and abs(value) < 1e7 then case
            when abs(value * 10::double precision ^ places) < 1e9
                and abs(abs(value * 10::double precision ^ places
                    - trunc(value * 10::double precision ^ places)) - 0.5) > 1e-6
            then (trunc(value * 10::double precision ^ places)
                + case when abs(value * 10::double precision ^ places
                    - trunc(value * 10::double precision ^ places)) > 0.5
                  then sign(value) else 0 end)
                / 10::double precision ^ places
            else ops.cw_round_exact(value, places)
        end
        else ops.cw_round_exact(value, places)
    end
$$;

-- The same under DuckDB's name, for SQL that reaches PostgreSQL untranslated (a BI
-- tool's): cartwheel's sessions search `ops` last, and pg_catalog has no round(double, int).
create or replace function ops.round(value double precision, places integer)
returns double precision language sql immutable parallel safe as $$
    select ops.cw_round(value, places)
$$;

create or replace function ops.cw_round(value numeric, places integer) returns numeric
language sql immutable parallel safe as $$ select round(value, places) $$;

create or replace function ops.cw_round(value bigint, places integer) returns bigint
language sql immutable parallel safe as $$
    select case when places >= 0 then value else round(value, places)::bigint end
$$;

create or replace function ops.cw_round(value integer, places integer) returns integer
language sql immutable parallel safe as $$
    select case when places >= 0 then value else round(value, places)::integer end
$$;
"""

_INTEGER_BOUNDS = {
    exp.DataType.Type.TINYINT: (-128, 127),
    exp.DataType.Type.SMALLINT: (-32768, 32767),
    exp.DataType.Type.INT: (-2147483648, 2147483647),
    exp.DataType.Type.BIGINT: (-9223372036854775808, 9223372036854775807),
}
_TEXT_TYPES = exp.DataType.TEXT_TYPES
_DOUBLE_TYPES = {exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT}

# (name, type) columns of a relation, [] when it does not exist.
ColumnLookup = Callable[[str], list[tuple[str, str]]]


class TranslationError(ValueError):
    """A construct that has no PostgreSQL translation; the message says what to do."""


def _helper(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Dot(
        this=exp.to_identifier("ops"),
        expression=exp.Anonymous(this=name, expressions=list(args)),
    )


def _as_text(node: exp.Expression) -> exp.Expression:
    return exp.cast(node, exp.DataType.build("text"))


def _try_cast(node: exp.TryCast) -> exp.Expression:
    to: exp.DataType = node.args["to"]
    value = node.this
    kind = to.this
    if kind in _TEXT_TYPES:
        return exp.Cast(this=value, to=to)
    if kind == exp.DataType.Type.DATE:
        return _helper("cw_try_date", _as_text(value))
    if kind in _INTEGER_BOUNDS:
        low, high = _INTEGER_BOUNDS[kind]
        call = _helper(
            "cw_try_integer", _as_text(value), exp.Literal.number(low), exp.Literal.number(high)
        )
        return exp.Cast(this=call, to=to)
    if kind == exp.DataType.Type.DECIMAL:
        params = [p.this.name for p in to.expressions] or ["18", "3"]
        width, places = (params + ["0"])[:2]
        call = _helper(
            "cw_try_decimal",
            _as_text(value),
            exp.Literal.number(width),
            exp.Literal.number(places),
        )
        return exp.Cast(this=call, to=to)
    if kind in _DOUBLE_TYPES:
        return _helper("cw_try_double", _as_text(value))
    raise TranslationError(
        f"try_cast to {to.sql('duckdb')} has no PostgreSQL translation in cartwheel "
        "(engines/translation.py handles date, integers, decimal, double and text)"
    )


def _average(value: exp.Expression) -> exp.Expression:
    """DuckDB's avg: the sum as DOUBLE divided by the count (not the exact quotient)."""
    total = exp.Cast(this=exp.Sum(this=value.copy()), to=exp.DataType.build("double"))
    return exp.Div(this=total, expression=exp.Count(this=value.copy()))


def _windowed_average(window: exp.Window) -> exp.Expression:
    """avg(x) over w as DuckDB computes it: sum(x) over w as DOUBLE / count(x) over w."""
    total, count = window.copy(), window.copy()
    total.set("this", exp.Sum(this=window.this.this.copy()))
    count.set("this", exp.Count(this=window.this.this.copy()))
    return exp.Div(this=exp.Cast(this=total, to=exp.DataType.build("double")), expression=count)


def _collated(column: exp.ColumnDef) -> exp.ColumnDef:
    """A text column compares byte-wise (`COLLATE "C"`), like DuckDB, unless it says otherwise."""
    constraints = column.args.get("constraints") or []
    if not _is_text(column.args.get("kind")) or any(
        isinstance(c.args.get("kind"), exp.CollateColumnConstraint) for c in constraints
    ):
        return column
    collate = exp.ColumnConstraint(
        kind=exp.CollateColumnConstraint(this=exp.to_identifier("C", quoted=True))
    )
    column = column.copy()
    column.set("constraints", [collate, *constraints])
    return column


def trimmed(node: exp.Trim) -> exp.Trim:
    """A trim that names no characters, naming DuckDB's (the space separators)."""
    if node.args.get("expression") is not None:
        return node
    spaces = node.copy()
    spaces.set("expression", exp.Literal.string(SPACE_SEPARATORS))
    return spaces


def _recased(value: exp.Expression) -> exp.Expression:
    """initcap's argument under the database's collation: text columns are COLLATE "C",
    under which initcap sees only ASCII letters."""
    if isinstance(value, exp.Collate):
        return value
    return exp.Collate(this=value, expression=exp.to_identifier("default", quoted=True))


_POSTGRES_COLUMNDEF = Postgres.Generator.TRANSFORMS[exp.ColumnDef]


class CartwheelPostgres(Postgres):
    """PostgreSQL written so that it computes what DuckDB computes for cartwheel's models
    (the rules in this module's docstring), as sqlglot generator transforms."""

    class Generator(Postgres.Generator):
        TRANSFORMS = {
            **Postgres.Generator.TRANSFORMS,
            exp.TryCast: lambda self, e: self.sql(_try_cast(e)),
            exp.Avg: lambda self, e: self.sql(_average(e.this)),
            exp.Round: lambda self, e: self.sql(
                _helper("cw_round", e.this, e.args.get("decimals") or exp.Literal.number(0))
            ),
            exp.ColumnDef: lambda self, e: _POSTGRES_COLUMNDEF(self, _collated(e)),
            exp.Initcap: lambda self, e: self.func("INITCAP", _recased(e.this)),
        }

        def placeholder_sql(self, expression: exp.Placeholder) -> str:
            # `?` stays `?`: the engine turns parameters into psycopg's `%s` once, as it
            # runs the statement (engines/postgres.py `placeholders`).
            return "?" if not expression.this else super().placeholder_sql(expression)

        def trim_sql(self, expression: exp.Trim) -> str:
            return super().trim_sql(trimmed(expression))

        def window_sql(self, expression: exp.Window) -> str:
            if isinstance(expression.this, exp.Avg):
                return self.sql(_windowed_average(expression))
            return super().window_sql(expression)

        def group_sql(self, expression: exp.Group) -> str:
            if expression.args.get("all"):
                raise TranslationError("GROUP BY ALL is not portable: list the grouping columns")
            return super().group_sql(expression)

        def create_sql(self, expression: exp.Create) -> str:
            if expression.args.get("replace") and expression.kind == "TABLE":
                raise TranslationError(
                    "CREATE OR REPLACE TABLE is not portable: use Engine.build_table"
                )
            return super().create_sql(expression)


def _is_text(kind: exp.Expression | None) -> bool:
    return isinstance(kind, exp.DataType) and kind.this in _TEXT_TYPES


def _has_excluding_star(tree: exp.Expression) -> bool:
    return any(
        star.args.get("except_") or star.args.get("except") for star in tree.find_all(exp.Star)
    )


def key_statements(qualified_name: str, columns: set[str]) -> list[str]:
    """`create index` statements for a warehouse table's indexed columns it has."""
    if qualified_name not in WAREHOUSE_KEYS:
        return []
    table = qualified_name.split(".")[1]
    return [
        f"create index if not exists idx_{table}_{column} on {qualified_name} ({column})"
        for column in WAREHOUSE_KEYS[qualified_name][1]
        if column in columns
    ]


def _with_keys(tree: exp.Expression) -> list[str]:
    """Add the primary key to a warehouse table's DDL; returns its index statements."""
    schema = tree.this if isinstance(tree, exp.Create) and tree.kind == "TABLE" else None
    if not isinstance(schema, exp.Schema) or tree.expression is not None:
        return []
    name = f"{schema.this.db}.{schema.this.name}"
    if name not in WAREHOUSE_KEYS:
        return []
    columns = {c.name for c in schema.expressions if isinstance(c, exp.ColumnDef)}
    primary_key = WAREHOUSE_KEYS[name][0]
    has_key = any(isinstance(c, exp.PrimaryKey) for c in schema.expressions)
    if primary_key in columns and not has_key:
        schema.append("expressions", exp.PrimaryKey(expressions=[exp.column(primary_key)]))
    return key_statements(name, columns)


class PostgresTranslator:
    """Translate once per statement text (cached), asking the catalog only for stars."""

    def __init__(self, lookup: ColumnLookup) -> None:
        self._lookup = lookup
        self._cache: dict[str, str] = {}

    def translate(self, sql: str) -> str:
        if sql in self._cache:
            return self._cache[sql]
        try:
            tree = sqlglot.parse_one(sql, read="duckdb")
        except SqlglotError as error:
            raise TranslationError(f"cannot parse model SQL: {error}") from error
        cacheable = True
        if _has_excluding_star(tree):
            tree = self._expand_stars(tree)
            cacheable = False  # depends on the tables' current columns
        indexes = _with_keys(tree)
        try:
            translated = tree.sql(dialect=CartwheelPostgres, unsupported_level=ErrorLevel.RAISE)
        except SqlglotError as error:
            raise TranslationError(f"no PostgreSQL translation: {error}") from error
        translated = ";\n".join([translated, *indexes])
        if cacheable:
            self._cache[sql] = translated
        return translated

    def _expand_stars(self, tree: exp.Expression) -> exp.Expression:
        """`* exclude (...)` as explicit columns, with the tables' columns from the catalog."""
        schema: dict[str, dict[str, dict[str, str]]] = {}
        for table in tree.find_all(exp.Table):
            if table.db and table.name:
                columns = self._lookup(f"{table.db}.{table.name}")
                if columns:
                    schema.setdefault(table.db, {})[table.name] = dict(columns)
        try:
            expanded = qualify(
                tree,
                schema=MappingSchema(schema, dialect="postgres"),
                dialect="duckdb",
                expand_stars=True,
                quote_identifiers=False,
                validate_qualify_columns=False,
                identify=False,
            )
        except SqlglotError as error:
            raise TranslationError(f"cannot expand `* exclude`: {error}") from error
        if _has_excluding_star(expanded):
            raise TranslationError(
                "`* exclude (...)` over a relation whose columns are unknown "
                "(it must read schema-qualified tables or CTEs over them)"
            )
        return expanded
