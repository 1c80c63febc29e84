"""DuckDB-dialect statements as Spark SQL over plain Parquet tables (no UPDATE, DELETE or
MERGE there): a pure, string-in string-out module, tested without Spark.

- `to_spark`: a SELECT (or an expression tree) in Spark's dialect. sqlglot translates
  most of it; the rewrites here keep DuckDB's results where Spark's functions differ:
  `/` and `avg` return DOUBLE (Spark keeps DECIMAL), `round` of a DOUBLE rounds the
  exact binary value half away from zero (Spark rounds the shortest decimal
  representation), `extract(isodow ...)` is Monday = 1.
- `bind`: `?` parameters as typed literals (Spark then sees one self-contained statement).
- `next_version_*`: for a DML statement, the SELECT whose rows are the table's next
  version, and the SELECT of the rows it touches (a partitioned table rewrites only the
  partitions those rows fall in).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import sqlglot
from sqlglot import exp

from cartwheel.engines.translation import trimmed


class SparkTranslationError(ValueError):
    """A statement cartwheel cannot run on Spark; the message says which construct."""


@dataclass(frozen=True)
class TableShape:
    """What a DML rewrite needs to know of its target table."""

    name: str
    columns: tuple[tuple[str, str], ...]  # (name, Spark type), partition column last
    partition_column: str | None = None
    partition_expression: str | None = None  # Spark SQL over the other columns

    @property
    def stored(self) -> list[str]:
        """Columns a statement writes (the partition column is derived)."""
        return [name for name, _ in self.columns if name != self.partition_column]


def parse(sql: str) -> list[exp.Expression]:
    """The statements of a DuckDB-dialect script (comments and empty statements dropped),
    with `?` parameters numbered."""
    return [tree for tree in sqlglot.parse(numbered(sql), read="duckdb") if tree is not None]


def _literal(value: object) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float | Decimal):
        return exp.Literal.number(value)
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "timestamp")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "date")
    return exp.Literal.string(str(value))


def numbered(sql: str) -> str:
    """`?` parameters as `$1`, `$2`, ... in the order they are written (quoted text and
    comments untouched), so binding does not depend on the order of a tree walk."""
    pieces = re.split(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*)", sql)
    count = 0
    out = []
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            parts = piece.split("?")
            piece = parts[0]
            for part in parts[1:]:
                count += 1
                piece += f"${count}{part}"
        out.append(piece)
    return "".join(out)


def bind(tree: exp.Expression, params: Sequence[object] | None) -> exp.Expression:
    """A copy of `tree` (parsed from `numbered` SQL) with `$n` replaced by `params[n-1]`."""
    tree = tree.copy()
    holders = [node for node in tree.walk() if isinstance(node, exp.Placeholder)]
    values = list(params or [])
    if len(holders) != len(values):
        raise SparkTranslationError(f"{len(holders)} placeholders but {len(values)} parameters")
    for holder in holders:
        holder.replace(_literal(values[int(holder.name) - 1]))
    return tree


def _double(node: exp.Expression) -> exp.Expression:
    return exp.cast(node, "double")


def _exact_round(value: exp.Expression, places: exp.Expression) -> exp.Expression:
    """DuckDB's round(DOUBLE, n): the exact binary value, halves away from zero.

    y = |x|·10^n is rounded by IEEE; Dekker's exact product tells on which side of a half
    the exact |x|·10^n lies when y itself sits on the half. Whole = floor(y) (+1 when the
    exact product is at or past the half); the result is sign(x)·whole / 10^n."""
    x = _double(value)
    p = exp.Anonymous(this="power", expressions=[exp.Literal.number(10), places.copy()])
    p = _double(p)
    a = exp.Anonymous(this="abs", expressions=[x.copy()])
    y = exp.Mul(this=a.copy(), expression=p.copy())
    splitter = exp.Literal.number(134217729)  # Veltkamp's 2^27 + 1: exact products

    def split_high(v: exp.Expression) -> exp.Expression:
        c = exp.Mul(this=_double(splitter.copy()), expression=v.copy())
        return exp.Sub(this=c.copy(), expression=exp.paren(exp.Sub(this=c, expression=v.copy())))

    ah, bh = split_high(a), split_high(p)
    al = exp.Sub(this=a.copy(), expression=exp.paren(ah.copy()))
    bl = exp.Sub(this=p.copy(), expression=exp.paren(bh.copy()))

    def mul(left: exp.Expression, right: exp.Expression) -> exp.Expression:
        return exp.Mul(this=exp.paren(left.copy()), expression=exp.paren(right.copy()))

    error = exp.Add(
        this=exp.paren(
            exp.Add(
                this=exp.Add(
                    this=exp.paren(exp.Sub(this=mul(ah, bh), expression=y.copy())),
                    expression=mul(ah, bl),
                ),
                expression=mul(al, bh),
            )
        ),
        expression=mul(al, bl),
    )
    floor = exp.Floor(this=y.copy())
    fraction = exp.paren(exp.Sub(this=y.copy(), expression=floor.copy()))
    half = exp.Literal.number(0.5)
    step = exp.Case(
        ifs=[
            exp.If(
                this=exp.GT(this=fraction.copy(), expression=half.copy()),
                true=exp.Literal.number(1),
            ),
            exp.If(
                this=exp.LT(this=fraction.copy(), expression=half.copy()),
                true=exp.Literal.number(0),
            ),
            exp.If(
                this=exp.GTE(this=error, expression=exp.Literal.number(0)),
                true=exp.Literal.number(1),
            ),
        ],
        default=exp.Literal.number(0),
    )
    whole = exp.paren(exp.Add(this=floor, expression=step))
    sign = exp.Anonymous(this="signum", expressions=[x.copy()])
    rounded = exp.Div(this=exp.Mul(this=sign, expression=whole), expression=p.copy())
    # Infinity and NaN stay as they are (floor would fail on them).
    finite = exp.Anonymous(this="isnan", expressions=[x.copy()])
    infinite = exp.EQ(this=a.copy(), expression=exp.cast(exp.Literal.string("Infinity"), "double"))
    return exp.Case(ifs=[exp.If(this=exp.or_(finite, infinite), true=x.copy())], default=rounded)


_DOUBLE_TYPES = {exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT}


def _is_double(node: exp.Expression) -> bool:
    """Whether a round() argument is DOUBLE in DuckDB, from its shape (no schema needed):
    a division, an average, or a cast to double."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Div | exp.Avg):
        return True
    if isinstance(node, exp.Cast) and node.to.this in _DOUBLE_TYPES:
        return True
    if isinstance(node, exp.Mul | exp.Add | exp.Sub):
        return _is_double(node.this) or _is_double(node.expression)
    if isinstance(node, exp.Window):
        return isinstance(node.this, exp.Avg)
    return False


# PostgreSQL's (and cartwheel's DuckDB macro's) initcap: a word is a run of letters and
# digits (`o'donnell` -> `O'Donnell`); Spark's own splits at white space only.
_INITCAP = sqlglot.parse_one(
    r"array_join(transform(regexp_extract_all(lower(cw_value), "
    r"'[\\p{L}\\p{N}]+|[^\\p{L}\\p{N}]+', 0), "
    r"word -> concat(upper(substr(word, 1, 1)), substr(word, 2))), '')",
    read="spark",
)


def _initcap(value: exp.Expression) -> exp.Expression:
    tree = _INITCAP.copy()
    for column in tree.find_all(exp.Column):
        if column.name == "cw_value":
            column.replace(value.copy())
    return tree


def _is_date(node: exp.Expression) -> bool:
    """A DATE by its shape: a column named `...date`, current_date, or a cast to date."""
    if isinstance(node, exp.Column):
        return node.name.endswith("date")
    if isinstance(node, exp.CurrentDate):
        return True
    return isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.DATE


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Initcap):
        return _initcap(node.this)
    if isinstance(node, exp.Trim):
        return trimmed(node)  # Spark, like PostgreSQL, trims only the ASCII space
    if isinstance(node, exp.Sub) and _is_date(node.this) and _is_date(node.expression):
        # DuckDB: date - date is a number of days; Spark: an interval.
        return exp.Anonymous(this="datediff", expressions=[node.this, node.expression])
    if isinstance(node, exp.Round) and _is_double(node.this):
        places = node.args.get("decimals") or exp.Literal.number(0)
        return _exact_round(node.this, places)
    if isinstance(node, exp.Div) and not node.args.get("typed"):
        return exp.Div(this=_double(node.this), expression=_double(node.expression), typed=True)
    if isinstance(node, exp.Window) and isinstance(node.this, exp.Avg):
        total, count = node.copy(), node.copy()
        total.set("this", exp.Sum(this=node.this.this.copy()))
        count.set("this", exp.Count(this=node.this.this.copy()))
        return exp.Div(this=_double(total), expression=count, typed=True)
    if isinstance(node, exp.Avg) and not isinstance(node.parent, exp.Window):
        total = _double(exp.Sum(this=node.this.copy()))
        return exp.Div(this=total, expression=exp.Count(this=node.this.copy()), typed=True)
    if isinstance(node, exp.Extract) and node.this.name.lower() == "isodow":
        return exp.Extract(this=exp.var("DAYOFWEEK_ISO"), expression=node.expression)
    if isinstance(node, exp.Group) and node.args.get("all"):
        raise SparkTranslationError("GROUP BY ALL is not portable: list the grouping columns")
    return node


def rewrite(tree: exp.Expression) -> exp.Expression:
    """Apply the DuckDB-result-preserving rewrites to every node, innermost first."""
    for node in reversed(list(tree.walk(bfs=True))):
        replacement = _rewrite(node)
        if replacement is not node:
            if node is tree:
                tree = replacement
            else:
                node.replace(replacement)
    return tree


def to_spark(tree: exp.Expression) -> str:
    """Spark SQL for a (bound) DuckDB-dialect tree."""
    return rewrite(tree.copy()).sql(dialect="spark")


def spark_type(kind: exp.DataType) -> str:
    """A column type of DuckDB DDL as a Spark type."""
    return exp.DataType.build(kind).sql(dialect="spark").lower()


def table_name(table: exp.Table) -> str:
    return f"{table.db}.{table.name}" if table.db else table.name


def resolve_tables(
    tree: exp.Expression,
    view_of: Callable[[str], str | None],
    keep: exp.Expression | None = None,
) -> exp.Expression:
    """`tree` with every table reference (but `keep`), in subqueries too, replaced by the
    view `view_of` names for it. A `schema.table` it knows no view for is an error: Spark's
    catalog holds only published versions, so falling back to it would read a stale or
    missing table instead of the run's own."""
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    for table in list(tree.find_all(exp.Table)):
        if table is keep or not table.name:
            continue
        name = table_name(table)
        if name in ctes:
            continue
        view = view_of(name)
        if view is None:
            if table.db:
                raise SparkTranslationError(f"table {name} does not exist")
            continue  # a view of the session (the engine's own cw_… names)
        alias = table.alias or table.name
        table.set("db", None)
        table.set("catalog", None)
        table.set("this", exp.to_identifier(view))
        table.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    # `schema.table.column` names the table by its alias (its own name) now.
    for column in tree.find_all(exp.Column):
        if column.args.get("db") is not None:
            column.set("db", None)
            column.set("catalog", None)
    return tree


# DML as next versions ------------------------------------------------------------------


def _target_reference(target: exp.Expression) -> tuple[str, str]:
    """(`schema.table`, the name its columns are qualified with) of a DML target."""
    table = target if isinstance(target, exp.Table) else target.find(exp.Table)
    if table is None:
        raise SparkTranslationError("a DML statement without a target table")
    return table_name(table), table.alias or table.name


def next_version_delete(tree: exp.Delete, shape: TableShape, source: str) -> tuple[str, str]:
    """(next version, touched rows) of `delete from t where ...`; `source` holds the
    table's current rows."""
    _, qualifier = _target_reference(tree.this)
    where = tree.args.get("where")
    touched = f"select * from {source} as {qualifier}"
    if where is not None:
        touched += f" where {to_spark(where.this)}"
    return f"select * from {source} except all {touched}", touched


def next_version_update(tree: exp.Update, shape: TableShape, source: str) -> tuple[str, str]:
    """(next version, touched rows) of `update t [as a] set ... [from s] [where ...]`.

    The touched rows are those the WHERE clause selects (each once: the FROM source
    must match a row at most once, as DuckDB also requires for a defined result)."""
    name, qualifier = _target_reference(tree.this)
    sets: dict[str, exp.Expression] = {}
    for assignment in tree.expressions:
        sets[assignment.this.name] = assignment.expression
    unknown = set(sets) - set(shape.stored)
    if unknown:
        raise SparkTranslationError(f"update of unknown columns {sorted(unknown)} of {name}")
    joined = f"{source} as {qualifier}"
    extra = tree.args.get("from_") or tree.args.get("from")
    if extra is not None:
        joined += ", " + to_spark(extra.this)
    where = tree.args.get("where")
    condition = f" where {to_spark(where.this)}" if where is not None else ""
    old = f"select {qualifier}.* from {joined}{condition}"
    values = []
    for column, _ in shape.columns:
        if column in sets:
            values.append(f"{to_spark(sets[column])} as {column}")
        else:
            values.append(f"{qualifier}.{column}")
    new = f"select {', '.join(values)} from {joined}{condition}"
    return f"(select * from {source} except all {old}) union all {new}", old


def _insert_target(tree: exp.Insert) -> tuple[str, list[str] | None]:
    target = tree.this
    if isinstance(target, exp.Schema):
        return table_name(target.this), [column.name for column in target.expressions]
    return table_name(target), None


def _rows_sql(tree: exp.Insert, shape: TableShape) -> str:
    """The inserted rows with every table column in order, cast to the table's types."""
    _, listed = _insert_target(tree)
    columns = listed or shape.stored
    query = tree.expression
    body = to_spark(query)
    if isinstance(query, exp.Values):
        body = f"select * from {body}"
    types = dict(shape.columns)
    values = ", ".join(
        f"cast({f'cw_new.{c}' if c in columns else 'null'} as {types[c]}) as {c}"
        for c in shape.stored
    )
    rows = f"select {values} from ({body}) as cw_new({', '.join(columns)})"
    if shape.partition_column:
        # The partition column is derived from the cast columns.
        rows = (
            f"select *, {shape.partition_expression} as {shape.partition_column} "
            f"from ({rows}) as cw_typed"
        )
    return rows


def _qualify_conflict(node: exp.Expression, name: str) -> exp.Expression:
    """Columns of `t.c` / `schema.t.c` / `c` in ON CONFLICT ... as `cw_old.c`."""
    table = name.split(".")[-1]
    for column in list(node.find_all(exp.Column)):
        if column.table == "excluded":
            column.set("table", exp.to_identifier("cw_excluded"))
            column.set("db", None)
        elif not column.table or column.table == table:
            column.set("table", exp.to_identifier("cw_old"))
            column.set("db", None)
            column.set("catalog", None)
    return node


def next_version_insert(tree: exp.Insert, shape: TableShape, source: str) -> tuple[str, str]:
    """(next version, inserted rows) of `insert into t [(cols)] query [on conflict ...]`."""
    name, _ = _insert_target(tree)
    rows = _rows_sql(tree, shape)
    conflict = tree.args.get("conflict")
    if conflict is None:
        return f"select * from {source} union all {rows}", rows
    keys = [
        (key.this if isinstance(key, exp.Ordered) else key).name
        for key in conflict.args.get("conflict_keys") or []
    ]
    if not keys:
        raise SparkTranslationError("ON CONFLICT needs its key columns")
    on = " and ".join(f"cw_old.{key} = cw_excluded.{key}" for key in keys)
    new = (
        f"select cw_excluded.* from ({rows}) as cw_excluded "
        f"left anti join {source} as cw_old on {on}"
    )
    action = conflict.args.get("action")
    if conflict.args.get("nothing") or (action is not None and action.name == "DO NOTHING"):
        return f"select * from {source} union all {new}", rows
    sets = {
        assignment.this.name: _qualify_conflict(assignment.expression.copy(), name)
        for assignment in conflict.expressions
    }
    where = conflict.args.get("where")
    condition = to_spark(_qualify_conflict(where.this.copy(), name)) if where is not None else None
    values = []
    for column, _ in shape.columns:
        if column in sets:
            value = to_spark(sets[column])
            if condition:
                value = f"case when {condition} then {value} else cw_old.{column} end"
            values.append(f"{value} as {column}")
        else:
            values.append(f"cw_old.{column}")
    updated = (
        f"select {', '.join(values)} from {source} as cw_old join ({rows}) as cw_excluded on {on}"
    )
    kept = f"select cw_old.* from {source} as cw_old left anti join ({rows}) as cw_excluded on {on}"
    return f"{kept} union all {updated} union all {new}", rows


def next_version_merge(tree: exp.Merge, shape: TableShape, source: str) -> tuple[str, str]:
    """(next version, changed rows) of `merge into t as a using s as b on ... when matched
    [and ...] then update set ... when not matched then insert (...) values (...)`."""
    _, qualifier = _target_reference(tree.this)
    using = to_spark(tree.args["using"])
    on = to_spark(tree.args["on"])
    target = f"{source} as {qualifier}"
    parts = [f"select {qualifier}.* from {target} left anti join {using} on {on}"]
    types = dict(shape.columns)
    whens = tree.args["whens"].expressions
    if not any(w.args.get("matched") for w in whens):  # matched rows stay as they are
        parts.append(f"select {qualifier}.* from {target} left semi join {using} on {on}")
    for when in whens:
        action = when.args["then"]
        condition = when.args.get("condition")
        if when.args.get("matched") and isinstance(action, exp.Update):
            sets = {a.this.name: to_spark(a.expression) for a in action.expressions}
            values = []
            for column, _ in shape.columns:
                value = f"{qualifier}.{column}"
                if column in sets:
                    value = sets[column]
                    if condition is not None:
                        otherwise = f"{qualifier}.{column}"
                        value = f"case when {to_spark(condition)} then {value} else {otherwise} end"
                values.append(f"{value} as {column}")
            parts.append(f"select {', '.join(values)} from {target} join {using} on {on}")
        elif not when.args.get("matched") and isinstance(action, exp.Insert):
            names = [c.name for c in action.this.expressions]
            given = dict(zip(names, action.expression.expressions, strict=True))
            values = [
                f"cast({to_spark(given[c]) if c in given else 'null'} as {types[c]}) as {c}"
                for c in shape.stored
            ]
            rows = f"select {', '.join(values)} from {using} left anti join {target} on {on}"
            if condition is not None:
                rows += f" where {to_spark(condition)}"
            parts.append(rows)
        else:
            raise SparkTranslationError(f"MERGE clause not supported on Spark: {when.sql()}")
    if shape.partition_column:
        raise SparkTranslationError(f"MERGE into the partitioned table {shape.name}")
    return " union all ".join(parts), f"select * from {source}"
