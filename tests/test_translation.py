"""The PostgreSQL dialect of the models, as text (no server): each rule of
engines/translation.py, on hand-made statements. The live parity tests run them."""

from __future__ import annotations

import pytest

from cartwheel.engines.translation import PostgresTranslator, TranslationError


def translate(sql: str) -> str:
    columns = {"staging.customers": [("customer_id", "text"), ("email", "text")]}
    return PostgresTranslator(lambda table: columns.get(table, [])).translate(sql)


def test_try_cast_becomes_the_helpers_that_read_text_like_duckdb() -> None:
    assert translate(
        "select try_cast(a as date), try_cast(b as integer), try_cast(c as decimal(12, 2)), "
        "try_cast(d as double), try_cast(e as varchar) from t"
    ) == (
        "SELECT ops.cw_try_date(CAST(a AS TEXT)), "
        "CAST(ops.cw_try_integer(CAST(b AS TEXT), -2147483648, 2147483647) AS INT), "
        "CAST(ops.cw_try_decimal(CAST(c AS TEXT), 12, 2) AS DECIMAL(12, 2)), "
        "ops.cw_try_double(CAST(d AS TEXT)), CAST(e AS TEXT) FROM t"
    )


def test_avg_and_round_take_duckdbs_floating_point_path_also_nested_and_windowed() -> None:
    assert translate("select round(avg(price), 2) from t") == (
        "SELECT ops.cw_round(CAST(SUM(price) AS DOUBLE PRECISION) / COUNT(price), 2) FROM t"
    )
    assert translate("select avg(x) over (partition by g) from t") == (
        "SELECT CAST(SUM(x) OVER (PARTITION BY g) AS DOUBLE PRECISION) / "
        "COUNT(x) OVER (PARTITION BY g) FROM t"
    )
    assert translate("select round(x) from t") == "SELECT ops.cw_round(x, 0) FROM t"


def test_initcap_re_cases_under_the_databases_collation_not_byte_wise() -> None:
    assert translate("select initcap(lower(first_name)) from t") == (
        'SELECT INITCAP(LOWER(first_name) COLLATE "default") FROM t'
    )


def test_text_columns_compare_byte_wise_and_warehouse_tables_get_their_keys() -> None:
    assert translate(
        "create table if not exists warehouse.dim_products "
        '(product_key bigint not null, product_id varchar not null, note varchar collate "x")'
    ) == (
        "CREATE TABLE IF NOT EXISTS warehouse.dim_products (product_key BIGINT NOT NULL, "
        'product_id TEXT COLLATE "C" NOT NULL, note TEXT COLLATE "x", PRIMARY KEY (product_key));\n'
        "create index if not exists idx_dim_products_product_id "
        "on warehouse.dim_products (product_id)"
    )


def test_star_exclude_is_expanded_from_the_columns_the_catalog_gives() -> None:
    assert translate("select * exclude (email) from staging.customers") == (
        "SELECT customers.customer_id AS customer_id FROM staging.customers AS customers"
    )


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("select a, count(*) from t group by all", "GROUP BY ALL is not portable"),
        ("create or replace table warehouse.x as select 1 as a", "use Engine.build_table"),
        ("select try_cast(a as blob) from t", "has no PostgreSQL translation"),
    ],
)
def test_constructs_without_a_translation_are_refused(sql: str, message: str) -> None:
    with pytest.raises(TranslationError, match=message):
        translate(sql)


def test_parameters_stay_question_marks_until_the_engine_binds_them() -> None:
    from cartwheel.engines.postgres import placeholders

    sql = "select name from products where name like 'O''Donnell%' and price > ?"
    translated = translate(sql)
    assert translated == "SELECT name FROM products WHERE name LIKE 'O''Donnell%' AND price > ?"
    # psycopg's style, applied once as the statement runs: `%s`, and `%` escaped.
    assert placeholders(translated) == (
        "SELECT name FROM products WHERE name LIKE 'O''Donnell%%' AND price > %s"
    )
