"""The one `.sql` reader's includes: SQL written once in `models/include/` and pulled into
the models that share it, with its values in place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cartwheel.models import DATE_SPINE, load_models
from cartwheel.sqlfiles import (
    IncludeError,
    _expand,
    fill,
    split_statements,
    sql_statements,
    table_ddl,
)

INCLUDES = Path(__file__).parent.parent / "src" / "cartwheel" / "models" / "include"
LAYERS = ("staging", "production", "warehouse", "analytics")


def test_an_include_takes_its_values_and_the_directives_indentation() -> None:
    text = "with source as (\n    {{ include batch_rows entity=customers }}\n),\n"
    assert _expand(text) == (
        "with source as (\n"
        "    select * from staging.customers\n"
        "    where batch_id in (select batch_id from ops.run_batches)\n"
        "),\n"
    )


def test_an_include_may_include_another() -> None:
    expanded = _expand("{{ include rows_to_process entity=transaction_items }}")
    assert expanded.startswith(
        "select * from staging.transaction_items\n"
        "where batch_id in (select batch_id from ops.run_batches)\n"
        "union all\n"
    )
    assert "where held.entity = 'transaction_items' and held.stage = 'quality'" in expanded
    assert "{{" not in expanded


@pytest.mark.parametrize(
    ("directive", "message"),
    [
        ("{{ include batch_rows }}", "include batch_rows takes entity, got none"),
        (
            "{{ include batch_rows entity=customers key=customer_id }}",
            "include batch_rows takes entity, got entity, key",
        ),
        ("{{ include missing_fragment entity=x }}", "no file models/include/missing_fragment.sql"),
    ],
)
def test_a_wrong_include_is_refused(directive: str, message: str) -> None:
    with pytest.raises(IncludeError, match=message):
        _expand(directive)


def test_models_are_read_with_their_includes_expanded_and_every_fragment_is_used() -> None:
    texts = [model.sql for layer in LAYERS for model in load_models(layer)]
    assert not [t for t in texts if "{{" in t.replace(DATE_SPINE, "")]
    sources = [p.read_text() for p in INCLUDES.parent.parent.rglob("*.sql")]
    included = {name for text in sources for name in re.findall(r"\{\{ include (\w+)", text)}
    assert included == {f.stem for f in INCLUDES.glob("*.sql")}


def test_fill_puts_in_every_value_and_refuses_a_missing_one() -> None:
    sql = "select * from warehouse.fact_sales where date_key between {{ first }} and {{ last }}"
    assert fill(sql, {"first": 20240101, "last": 20240131, "unused": 1}) == (
        "select * from warehouse.fact_sales where date_key between 20240101 and 20240131"
    )
    with pytest.raises(KeyError, match="no value for last"):
        fill(sql, {"first": 20240101})


def test_statements_split_at_semicolons_outside_comments() -> None:
    text = (
        "-- Customers; one row each.\n"
        "create table ops.a (x integer);\n"
        "insert into ops.a values (1); -- the first; more later\n"
        "-- only a comment; no statement\n"
    )
    assert split_statements(text) == [
        "-- Customers; one row each.\ncreate table ops.a (x integer)",
        "\ninsert into ops.a values (1)",
    ]


def test_every_ops_table_has_one_create_statement() -> None:
    tables = [
        "ops.pipeline_runs", "ops.step_runs", "ops.quality_results", "ops.batch_conservation",
        "ops.quarantine", "ops.processed_batches", "ops.vocabulary", "ops.bands",
        "ops.date_window",
    ]  # fmt: skip
    assert len(sql_statements("ops/ddl.sql")) == len(tables)
    for table in tables:
        assert f"create table if not exists {table} (" in table_ddl("ops/ddl.sql", table) or (
            f"create table {table} (" in table_ddl("ops/ddl.sql", table)
        )
    with pytest.raises(KeyError, match="does not create ops.run_batches once"):
        table_ddl("ops/ddl.sql", "ops.run_batches")
