"""Production keys and references on DuckDB: not declared (no per-row index maintenance),
proven set-based after every merge. Each rule is shown to catch a defect injected
straight into production, and a run over a broken production is rolled back."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from cartwheel.config import Settings
from cartwheel.contract import PRIMARY_KEYS
from cartwheel.engines.duckdb import DuckDBEngine
from cartwheel.generate import generate
from cartwheel.orchestration import Pipeline, PipelineError
from cartwheel.production.integrity import RULES, touched, violations


def _duplicate(table: str, key: str) -> str:
    """A second copy of the table's first row."""
    return (
        f"insert into production.{table} select * from production.{table} "
        f"where {key} = (select min({key}) from production.{table})"
    )


def _dangling(table: str, key: str, column: str, value: str) -> str:
    """The first row's `column` pointing at a key that does not exist."""
    return (
        f"update production.{table} set {column} = '{value}' "
        f"where {key} = (select min({key}) from production.{table})"
    )


# rule -> the statement that breaks exactly one key or row of it
DEFECTS = {
    "customers.customer_id is unique": _duplicate("customers", "customer_id"),
    "products.product_id is unique": _duplicate("products", "product_id"),
    "transactions.transaction_id is unique": _duplicate("transactions", "transaction_id"),
    "transaction_items.item_id is unique": _duplicate("transaction_items", "item_id"),
    "customer_history (customer_id, business_date) is unique": _duplicate(
        "customer_history", "customer_id"
    ),
    "product_history (product_id, business_date) is unique": _duplicate(
        "product_history", "product_id"
    ),
    "transactions.customer_id references customers": _dangling(
        "transactions", "transaction_id", "customer_id", "CUST-ODONNELL-GONE"
    ),
    "transaction_items.transaction_id references transactions": _dangling(
        "transaction_items", "item_id", "transaction_id", "TXN-VAN-DER-BERG"
    ),
    "transaction_items.product_id references products": _dangling(
        "transaction_items", "item_id", "product_id", "PROD-JOSÉ-MARÍA"
    ),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A shop export and the data folder of one run over it."""
    root = tmp_path_factory.mktemp("integrity")
    generate(root / "shop", scale=0.05, seed=5)
    Pipeline(Settings(data_dir=root / "data", input_dir=root / "shop")).run()
    return root / "shop", root / "data"


def broken_copy(built: tuple[Path, Path], target: Path, rule: str) -> Path:
    shutil.copytree(built[1], target)
    con = duckdb.connect(str(target / "cartwheel.duckdb"))
    con.execute(DEFECTS[rule]).fetchall()
    con.close()
    return target


def test_every_rule_has_a_defect_to_catch() -> None:
    assert set(DEFECTS) == set(RULES)


def test_a_clean_production_breaks_no_rule(built: tuple[Path, Path]) -> None:
    engine = DuckDBEngine(str(built[1] / "cartwheel.duckdb"), read_only=True)
    try:
        assert violations(engine) == {}
    finally:
        engine.close()


@pytest.mark.parametrize("rule", list(DEFECTS))
def test_each_rule_catches_its_injected_defect(
    built: tuple[Path, Path], tmp_path: Path, rule: str
) -> None:
    data_dir = broken_copy(built, tmp_path / "data", rule)
    engine = DuckDBEngine(str(data_dir / "cartwheel.duckdb"), read_only=True)
    try:
        assert violations(engine) == {rule: 1}
    finally:
        engine.close()


@pytest.mark.parametrize("rule", list(DEFECTS))
def test_the_proof_over_the_touched_keys_sees_exactly_the_defects_among_them(
    built: tuple[Path, Path], tmp_path: Path, rule: str
) -> None:
    """Each defect is on the first row of its table: a merge that touched the first keys
    finds it, one that touched only the last keys need not look (production held every
    rule before the merge)."""
    data_dir = broken_copy(built, tmp_path / "data", rule)
    engine = DuckDBEngine(str(data_dir / "cartwheel.duckdb"), read_only=True)
    try:
        for first_or_last, expected in (("min", {rule: 1}), ("max", {})):
            for entity, key in PRIMARY_KEYS.items():
                engine.execute(
                    f"create or replace temporary table {touched(entity)} as "
                    f"select {first_or_last}({key}) as {key} from production.{entity}"
                )
            assert violations(engine, scoped=True) == expected
    finally:
        engine.close()


def test_a_run_over_a_broken_production_fails_and_changes_nothing(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    rule = "transaction_items.item_id is unique"
    data_dir = broken_copy(built, tmp_path / "data", rule)
    sql = "select count(*), count(distinct item_id) from production.transaction_items"
    before = duckdb.connect(str(data_dir / "cartwheel.duckdb"), read_only=True)
    counts = before.execute(sql).fetchall()
    before.close()
    with pytest.raises(PipelineError, match=r"production: IntegrityError: .*item_id is unique: 1"):
        Pipeline(Settings(data_dir=data_dir, input_dir=built[0])).run()
    after = duckdb.connect(str(data_dir / "cartwheel.duckdb"), read_only=True)
    try:
        assert after.execute(sql).fetchall() == counts
        assert after.execute(
            "select status from ops.pipeline_runs order by started_at desc limit 1"
        ).fetchall() == [("failed",)]
    finally:
        after.close()
