"""The Spark translation as strings (no Spark needed): DuckDB's results kept where Spark's
functions differ, parameters bound as literals, DML statements as next versions.

The rounding helper is also checked numerically against DuckDB itself, by running the
generated expression in DuckDB (it is plain arithmetic both engines evaluate in IEEE
doubles)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import numpy as np
import pytest
import sqlglot

from cartwheel.engines.spark_sql import (
    SparkTranslationError,
    TableShape,
    bind,
    next_version_delete,
    next_version_insert,
    next_version_merge,
    next_version_update,
    parse,
    resolve_tables,
    rewrite,
    spark_type,
    to_spark,
)

CUSTOMERS = TableShape(
    "production.customers",
    (("customer_id", "string"), ("full_name", "string"), ("updated_at", "timestamp")),
)
FACTS = TableShape(
    "warehouse.fact_sales",
    (
        ("sales_key", "bigint"),
        ("date_key", "int"),
        ("customer_key", "bigint"),
        ("sale_month", "int"),
    ),
    "sale_month",
    "cast(date_key div 100 as int)",
)


def spark(sql: str) -> str:
    return to_spark(parse(sql)[0])


def test_division_and_average_return_double_as_in_duckdb() -> None:
    assert spark("select a / b from t") == "SELECT CAST(a AS DOUBLE) / CAST(b AS DOUBLE) FROM t"
    assert spark("select avg(x) from t") == "SELECT CAST(SUM(x) AS DOUBLE) / COUNT(x) FROM t"
    assert spark("select avg(x) over (partition by k) from t") == (
        "SELECT CAST(SUM(x) OVER (PARTITION BY k) AS DOUBLE) / COUNT(x) OVER (PARTITION BY k) "
        "FROM t"
    )


def test_iso_day_of_week_is_monday_one() -> None:
    assert spark("select extract(isodow from d) from t") == (
        "SELECT EXTRACT(DAYOFWEEK_ISO FROM d) FROM t"
    )


def test_round_of_a_decimal_stays_spark_round_and_of_a_double_is_rewritten() -> None:
    assert spark("select round(sum(x), 2) from t") == "SELECT ROUND(SUM(x), 2) FROM t"
    assert "SIGNUM" in spark("select round(avg(x), 2) from t")
    assert "SIGNUM" in spark("select round(a / b * 100, 2) from t")


def test_group_by_all_is_refused() -> None:
    with pytest.raises(SparkTranslationError, match="GROUP BY ALL"):
        spark("select a, count(*) from t group by all")


def test_exact_round_matches_duckdb_on_halves_and_random_values() -> None:
    """The rewritten round(DOUBLE) gives DuckDB's own round() on 200,000 values, among
    them ties whose binary value lies just below (487.065) or above the half."""
    rng = np.random.default_rng(7)
    cents = np.round(rng.uniform(-5000, 5000, 200_000), 3)
    values = np.concatenate([[487.065, 2.675, 1.005, 0.125, -487.065, -2.5, 0.0], cents])
    con = duckdb.connect()
    con.register("v", {"x": values})
    tree = rewrite(sqlglot.parse_one("select round(cast(x as double), 2) as r from v"))
    # The rewrite is arithmetic; run it in DuckDB by DuckDB's names for two functions.
    emulated = tree.sql(dialect="duckdb").replace("SIGNUM(", "SIGN(")
    mismatches = con.execute(
        f"select count(*) from (select x, round(x, 2) as expected from v) "
        f"join ({emulated.replace('FROM v', ', x FROM v')}) using (x) where r <> expected"
    ).fetchall()[0][0]
    assert mismatches == 0
    assert con.execute(emulated + " limit 1").fetchall() == [(487.06,)]


def test_bind_replaces_placeholders_with_typed_literals() -> None:
    tree = bind(
        parse("select * from t where a = ? and b = ? and c = ? and d = ? and e is ?")[0],
        ["O'Donnell", dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3, 4, 5), Decimal("1.50"), None],
    )
    assert tree.sql(dialect="spark") == (
        "SELECT * FROM t WHERE a = 'O\\'Donnell' AND b = CAST('2024-01-02' AS DATE) "
        "AND c = CAST('2024-01-02 03:04:05' AS TIMESTAMP) AND d = 1.50 AND e IS NULL"
    )
    with pytest.raises(SparkTranslationError, match="2 placeholders but 1"):
        bind(parse("select ?, ?")[0], [1])


def test_delete_is_the_rows_that_stay() -> None:
    tree = parse("delete from production.customers where customer_id in (select id from gone)")[0]
    next_sql, touched = next_version_delete(tree, CUSTOMERS, "cw_v1")
    assert touched == (
        "select * from cw_v1 as customers where customer_id IN (SELECT id FROM gone)"
    )
    assert next_sql == f"select * from cw_v1 except all {touched}"


def test_update_from_replaces_the_matched_rows() -> None:
    tree = parse(
        "update warehouse.fact_sales as facts set customer_key = moved.new_key "
        "from moved_keys as moved where facts.sales_key = moved.sales_key"
    )[0]
    next_sql, touched = next_version_update(tree, FACTS, "cw_v2")
    joined = "cw_v2 as facts, moved_keys AS moved where facts.sales_key = moved.sales_key"
    assert touched == f"select facts.* from {joined}"
    assert next_sql == (
        f"(select * from cw_v2 except all {touched}) union all select facts.sales_key, "
        f"facts.date_key, moved.new_key as customer_key, facts.sale_month from {joined}"
    )
    with pytest.raises(SparkTranslationError, match="unknown columns"):
        next_version_update(parse("update t set nope = 1")[0], CUSTOMERS, "cw_v1")


def test_insert_casts_to_the_table_and_derives_the_partition() -> None:
    tree = parse("insert into warehouse.fact_sales (sales_key, date_key) values (1, 20240105)")[0]
    next_sql, rows = next_version_insert(tree, FACTS, "cw_v3")
    assert rows == (
        "select *, cast(date_key div 100 as int) as sale_month from (select "
        "cast(cw_new.sales_key as bigint) as sales_key, cast(cw_new.date_key as int) as date_key, "
        "cast(null as bigint) as customer_key from (select * from VALUES (1, 20240105)) "
        "as cw_new(sales_key, date_key)) as cw_typed"
    )
    assert next_sql == f"select * from cw_v3 union all {rows}"


def test_upsert_keeps_updates_and_adds() -> None:
    tree = parse(
        "insert into production.customers (customer_id, full_name, updated_at) "
        "select customer_id, full_name, current_timestamp from latest "
        "on conflict (customer_id) do update set full_name = excluded.full_name, "
        "updated_at = excluded.updated_at "
        "where production.customers.full_name is distinct from excluded.full_name"
    )[0]
    next_sql, _ = next_version_insert(tree, CUSTOMERS, "cw_v4")
    kept, updated, added = next_sql.split(" union all ")
    assert kept.startswith("select cw_old.* from cw_v4 as cw_old left anti join (")
    assert updated.startswith(
        "select cw_old.customer_id, case when cw_old.full_name IS DISTINCT FROM "
        "cw_excluded.full_name then cw_excluded.full_name else cw_old.full_name end as full_name"
    )
    assert added.startswith("select cw_excluded.* from (")
    assert added.endswith(
        "left anti join cw_v4 as cw_old on cw_old.customer_id = cw_excluded.customer_id"
    )
    nothing = parse(
        "insert into production.customers select * from latest on conflict (customer_id) do nothing"
    )[0]
    assert next_version_insert(nothing, CUSTOMERS, "cw_v4")[0].startswith(
        "select * from cw_v4 union all select cw_excluded.*"
    )


# The validated customers model's shape: a CTE, and the date window's start read by a
# scalar subquery inside a CASE (a table every ingest drops and writes again).
VALIDATED = """
with cleansed as (
    select customer_id, cast(registration_date as date) as registration_date
    from staging.customers
    where batch_id in (select batch_id from ops.run_batches)
)
select customer_id,
    case when registration_date < (select earliest_date from ops.date_window)
        then 'invalid_registration_date' end as reject_reason
from cleansed
"""


def test_tables_in_subqueries_resolve_to_the_views_of_the_run() -> None:
    views = {
        "staging.customers": "cw_customers_v2",
        "ops.run_batches": "cw_run_batches_v1",
        "ops.date_window": "cw_date_window_v3",
    }
    sql = resolve_tables(parse(VALIDATED)[0], views.get).sql(dialect="spark")
    assert "FROM cw_date_window_v3 AS date_window" in sql
    assert "FROM cw_run_batches_v1 AS run_batches" in sql
    assert "FROM cw_customers_v2 AS customers" in sql
    assert "FROM cleansed" in sql  # a CTE is no table
    assert "ops." not in sql and "staging." not in sql


def test_a_table_the_run_dropped_is_an_error_not_the_published_version() -> None:
    """Between `drop table ops.date_window` and its `create`, the run has no such table;
    Spark's catalog still holds the last published one, which must not be read instead."""
    views = {"staging.customers": "cw_customers_v2", "ops.run_batches": "cw_run_batches_v1"}
    with pytest.raises(SparkTranslationError, match="table ops.date_window does not exist"):
        resolve_tables(parse(VALIDATED)[0], views.get)


def test_the_dml_target_is_kept_and_its_columns_unqualified() -> None:
    (tree,) = parse(
        "update ops.quarantine set released_at = current_timestamp where exists "
        "(select 1 from staging.customers_validated v "
        "where v.source_line = ops.quarantine.source_line)"
    )
    views = {"staging.customers_validated": "cw_validated_v1"}
    sql = resolve_tables(tree, views.get, keep=tree.this).sql(dialect="spark")
    assert sql.startswith("UPDATE ops.quarantine SET")
    assert "FROM cw_validated_v1 AS v WHERE v.source_line = quarantine.source_line" in sql


def test_ddl_types_become_spark_types() -> None:
    create = parse("create table t (a varchar, b decimal(12, 2), c integer, d timestamp)")[0]
    kinds = [spark_type(column.args["kind"]) for column in create.this.expressions]
    assert kinds == ["string", "decimal(12, 2)", "int", "timestamp_ntz"]


def test_merge_keeps_unmatched_rows_updates_changed_and_inserts_new() -> None:
    tree = parse(
        "merge into production.customers as target using latest as incoming "
        "on target.customer_id = incoming.customer_id "
        "when matched and (target.full_name is distinct from incoming.full_name) "
        "then update set full_name = incoming.full_name "
        "when not matched then insert (customer_id, full_name, updated_at) "
        "values (incoming.customer_id, incoming.full_name, current_timestamp)"
    )[0]
    next_sql, _ = next_version_merge(tree, CUSTOMERS, "cw_v5")
    on = "on target.customer_id = incoming.customer_id"
    assert next_sql.split(" union all ") == [
        f"select target.* from cw_v5 as target left anti join latest AS incoming {on}",
        "select target.customer_id as customer_id, case when (target.full_name IS DISTINCT FROM "
        "incoming.full_name) then incoming.full_name else target.full_name end as full_name, "
        f"target.updated_at as updated_at from cw_v5 as target join latest AS incoming {on}",
        "select cast(incoming.customer_id as string) as customer_id, cast(incoming.full_name as "
        "string) as full_name, cast(CURRENT_TIMESTAMP() as timestamp) as updated_at "
        f"from latest AS incoming left anti join cw_v5 as target {on}",
    ]


def test_without_pyspark_the_engine_says_in_one_line_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    import importlib.util

    from typer.testing import CliRunner

    from cartwheel.cli import app

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyspark" else real(name, *a)
    )
    result = CliRunner().invoke(app, ["run", "--engine", "spark", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: engine 'spark' needs PySpark: pip install 'cartwheel[spark]'"
    ]
    assert not (tmp_path / "raw").exists()  # stopped before generating anything


class FakeFrame:
    """What the engine asks of a Spark DataFrame when it registers and frees versions."""

    def __init__(self) -> None:
        self.computed = False
        self.released = False

    def localCheckpoint(self, eager: bool) -> FakeFrame:  # noqa: N802 - PySpark's name
        return self

    def createOrReplaceTempView(self, name: str) -> None:  # noqa: N802 - PySpark's name
        pass

    def unpersist(self) -> None:
        self.released = True


def test_superseded_versions_are_freed_once_what_reads_them_is_computed(monkeypatch) -> None:
    from cartwheel.config import Settings
    from cartwheel.engines import spark

    monkeypatch.setattr(spark, "is_computed", lambda frame: frame.computed)
    engine = object.__new__(spark.SparkEngine)
    engine.settings = Settings(engine="spark")
    engine._tables, engine._temps, engine._pinned = {}, {}, set()
    engine._checkpoints, engine._plain_views = {}, {}
    frames = [FakeFrame() for _ in range(4)]
    staged = engine._register(frames[0], cache=True)
    first = engine._register(frames[1], cache=True, sql=f"select * from {staged}")
    engine._temps["cw_staged"] = staged
    second = engine._register(
        frames[2], cache=True, sql=f"select * from {first} except all select * from {first}"
    )
    engine._tables["staging.customers"] = spark.Version([("customer_id", "string")], view=second)
    report = engine._register(frames[3], cache=False, sql=f"select count(*) from {first}")

    engine._release_superseded()  # the staged rows are a temporary table still
    assert [f.released for f in frames[:3]] == [False, False, False]
    del engine._temps["cw_staged"]
    engine._release_superseded()  # nothing computed: every input is still needed
    assert [f.released for f in frames[:3]] == [False, False, False]

    frames[2].computed = True
    engine._temps["sales_report"] = report  # an uncached view reads the first version
    engine._release_superseded()
    assert [f.released for f in frames[:3]] == [False, False, False]
    del engine._temps["sales_report"]
    engine._pinned = {first}  # a transaction may restore the first version
    engine._release_superseded()
    assert [f.released for f in frames[:3]] == [False, False, False]
    engine._pinned = set()
    engine._release_superseded()  # the current version holds its rows: the rest goes
    assert [f.released for f in frames[:3]] == [True, True, False]
    assert list(engine._checkpoints) == [second]
