"""Publishing costs what changed (DuckDB): large tables as Parquet segments behind views
in the published catalog, only new or changed rows written per run, and the published
catalog always equal to the working database it was written from."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pytest

from cartwheel.config import Settings
from cartwheel.engines.duckdb import DuckDBEngine
from cartwheel.engines.duckdb_publish import (
    SEGMENTS_DIR,
    WORK_NAME,
    Changes,
    in_sync,
    run_scoped,
)
from cartwheel.generate.core import generate_batches
from cartwheel.orchestration import Pipeline, PipelineError
from cartwheel.orchestration.steps import STEPS

# Small enough that the lines, orders, facts, staged rows and customers of a few days at
# scale 3 are published as segments, while the run history stays copied into the catalog.
SEGMENT_ROWS = 100
DAYS = ("2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05")


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("publish") / "batches"
    generate_batches(out, first_day=date(2024, 1, 1), days=len(DAYS), scale=3, seed=7)
    return out


def settings_for(data_dir: Path, input_dir: Path, **extra: object) -> Settings:
    return Settings(
        data_dir=data_dir, input_dir=input_dir, duckdb_segment_rows=SEGMENT_ROWS, **extra
    )


def load_days(batches: Path, data_dir: Path, days: tuple[str, ...]) -> Path:
    """Run over an input folder holding the given daily batches (and any loaded before)."""
    input_dir = data_dir.parent / f"{data_dir.name}-input"
    input_dir.mkdir(exist_ok=True)
    for day in days:
        if not (input_dir / day).exists():
            shutil.copytree(batches / day, input_dir / day)
    Pipeline(settings_for(data_dir, input_dir)).run()
    return input_dir


def fingerprints(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, tuple]:
    """Rows and an order-independent hash of every table or view of one catalog."""
    names = con.execute(
        "select schema_name || '.' || table_name from duckdb_tables() where database_name = ? "
        "union select schema_name || '.' || view_name from duckdb_views() "
        "where database_name = ? and not internal",
        [catalog, catalog],
    ).fetchall()
    return {
        name: con.execute(
            f"select count(*), bit_xor(hash(t)) from (select t from {catalog}.{name} as t)"
        ).fetchall()[0]
        for (name,) in names
        if name != "ops.published_tables"
    }


def assert_catalog_equals_work(data_dir: Path) -> dict[str, tuple]:
    con = duckdb.connect()
    try:
        con.execute(f"attach '{data_dir / WORK_NAME}' as work (read_only)")
        con.execute(f"attach '{data_dir / 'cartwheel.duckdb'}' as catalog (read_only)")
        work, catalog = fingerprints(con, "work"), fingerprints(con, "catalog")
    finally:
        con.close()
    assert catalog == {name: value for name, value in work.items() if not run_scoped(name)}
    return catalog


def segments(data_dir: Path) -> dict[str, list[str]]:
    con = duckdb.connect(str(data_dir / "cartwheel.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "select name, segments from ops.published_tables where kind = 'segments'"
        ).fetchall()
    finally:
        con.close()
    return dict(rows)


def segment_rows(data_dir: Path, table: str) -> list[int]:
    con = duckdb.connect(str(data_dir / "cartwheel.duckdb"), read_only=True)
    try:
        return con.execute(
            "select segment_rows from ops.published_tables where name = ?", [table]
        ).fetchall()[0][0]
    finally:
        con.close()


def query(data_dir: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(data_dir / "cartwheel.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# Statement tracking --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "result", "expected"),
    [
        (
            "insert into warehouse.fact_sales select * from x",
            [(12,)],
            {"warehouse.fact_sales": "appended"},
        ),
        ("insert into warehouse.fact_sales select * from x", [(0,)], {}),
        ("update warehouse.fact_sales as f set profit = 0 where false", [(0,)], {}),
        (
            "update warehouse.fact_sales as f set profit = 0",
            [(3,)],
            {"warehouse.fact_sales": "modified"},
        ),
        (
            "delete from staging.customers where batch_id = ?",
            [(5,)],
            {"staging.customers": "modified"},
        ),
        (
            "merge into production.customers as t using s on t.k = s.k",
            [(1,)],
            {"production.customers": "modified"},
        ),
        (
            "create or replace table staging.products_validated as select 1",
            [(1,)],
            {"staging.products_validated": "modified"},
        ),
        ("create table if not exists warehouse.dim_date (date_key integer)", [], {}),
        ("drop table if exists ops.run_batches", [], {"ops.run_batches": "modified"}),
        (
            "-- the batch's rows\n  insert into ops.quarantine by name select 1",
            [(2,)],
            {"ops.quarantine": "appended"},
        ),
        (
            "insert or replace into production.products select * from p",
            [(2,)],
            {"production.products": "modified"},
        ),
        (
            "insert into ops.bands select * from b on conflict do update set upper = 1",
            [(1,)],
            {"ops.bands": "modified"},
        ),
        ("create temporary table wh_batch as select 1", [(1,)], {}),
        ("insert into wh_batch_sales select 1", [(4,)], {}),
        ("select count(*) from warehouse.fact_sales", [(9,)], {}),
    ],
)
def test_a_statement_marks_the_table_it_changed(sql: str, result: list, expected: dict) -> None:
    changes = Changes()
    changes.track(sql, result)
    assert changes.tables == expected
    assert not changes.everything


def test_an_insert_after_an_update_leaves_the_table_modified() -> None:
    changes = Changes()
    changes.track("update production.transactions set total_amount = 1", [(1,)])
    changes.track("insert into production.transactions select 1", [(1,)])
    assert changes.tables == {"production.transactions": "modified"}


def test_a_dropped_schema_changes_everything() -> None:
    changes = Changes()
    changes.track("drop schema if exists warehouse cascade", [])
    assert changes.everything


# Publishing ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def daily(batches: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Three days in the first run, then one more day per run, twice; the state
    published after each run."""
    data_dir = tmp_path_factory.mktemp("daily") / "data"
    states = []
    for count in (3, 4, 5):
        load_days(batches, data_dir, DAYS[:count])
        states.append(
            {
                "segments": segments(data_dir),
                "facts": segment_rows(data_dir, "warehouse.fact_sales"),
                "catalog": assert_catalog_equals_work(data_dir),
                "files": sorted(p.name for p in (data_dir / SEGMENTS_DIR).iterdir()),
            }
        )
    return {"data_dir": data_dir, "states": states}


def test_large_tables_are_views_over_segments_and_small_ones_are_copied(daily: dict) -> None:
    data_dir = daily["data_dir"]
    published = segments(data_dir)
    assert {
        "warehouse.fact_sales",
        "production.transaction_items",
        "staging.transaction_items",
        "warehouse.dim_customers",
    } <= set(published)
    assert "ops.pipeline_runs" not in published and "warehouse.dim_payment_method" not in published
    views = dict(
        query(
            data_dir,
            "select schema_name || '.' || view_name, sql from duckdb_views() where not internal",
        )
    )
    assert set(views) == set(published)
    assert "read_parquet" in views["warehouse.fact_sales"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("staging.customers_validated", True),
        ("staging.transaction_items_validated_lines", True),
        ("staging.customers", False),
        ("production.customers_validated", False),
        ("staging.customers_validated_copy", False),
    ],
)
def test_only_the_validated_staging_tables_are_run_scoped(name: str, expected: bool) -> None:
    assert run_scoped(name) is expected


def test_the_validated_tables_stay_in_the_working_database_not_the_catalog(daily: dict) -> None:
    """The catalog holds every table of the working database but the five validated
    ones; the raw staged rows (quarantine retries, `cartwheel monitor`) stay published."""
    data_dir = daily["data_dir"]
    con = duckdb.connect()
    try:
        con.execute(f"attach '{data_dir / WORK_NAME}' as work (read_only)")
        work = fingerprints(con, "work")
    finally:
        con.close()
    catalog = daily["states"][-1]["catalog"]
    left_out = sorted(set(work) - set(catalog))
    assert left_out == [
        "staging.customers_validated",
        "staging.products_validated",
        "staging.transaction_items_validated",
        "staging.transaction_items_validated_lines",
        "staging.transactions_validated",
    ]
    for entity in ("customers", "products", "transactions", "transaction_items"):
        assert catalog[f"staging.{entity}"] == work[f"staging.{entity}"]
    assert not any("_validated" in name for name in segments(data_dir))


def test_one_more_day_writes_only_its_new_facts(daily: dict) -> None:
    """A day adds one segment holding exactly that day's facts; earlier segments stay
    (until the trailing ones are merged: sizes at least double towards the first)."""
    first, second, third = daily["states"]
    new_facts = [
        second["catalog"]["warehouse.fact_sales"][0] - first["catalog"]["warehouse.fact_sales"][0],
        third["catalog"]["warehouse.fact_sales"][0] - second["catalog"]["warehouse.fact_sales"][0],
    ]
    assert all(new_facts)
    assert len(first["segments"]["warehouse.fact_sales"]) == 1
    # The first segment (three days) is more than twice a day's: the day is kept apart.
    assert (
        second["segments"]["warehouse.fact_sales"][0]
        == first["segments"]["warehouse.fact_sales"][0]
    )
    assert second["facts"] == [*first["facts"], new_facts[0]]
    # The fifth day's segment is more than half the fourth's: merged, and then again.
    assert third["facts"] == [sum(second["facts"]) + new_facts[1]]
    assert sum(third["facts"]) == third["catalog"]["warehouse.fact_sales"][0]
    # Customers change every day (SCD2 versions closed): their one segment is replaced.
    dims = [state["segments"]["warehouse.dim_customers"] for state in daily["states"]]
    assert len(set(map(tuple, dims))) == 3 and all(len(d) == 1 for d in dims)


def test_segments_of_superseded_catalogs_are_deleted(daily: dict) -> None:
    """After a publish, the folder holds the segments of the new and the previous catalog."""
    second, third = daily["states"][1:]
    named = {
        s for listing in (second["segments"], third["segments"]) for s in sum(listing.values(), [])
    }
    assert set(third["files"]) == named


def test_one_at_a_time_equals_all_at_once(batches: Path, daily: dict, tmp_path: Path) -> None:
    """Five days in one run publish what three runs published (timestamps aside)."""
    data_dir = tmp_path / "data"
    load_days(batches, data_dir, DAYS)
    compare = ("warehouse.fact_sales", "production.transaction_items", "production.customers")
    sql = "select count(*), sum(line_total) from {}"
    for table in compare[:2]:
        assert query(data_dir, sql.format(table)) == query(daily["data_dir"], sql.format(table))
    assert query(data_dir, "select count(*) from production.customers") == query(
        daily["data_dir"], "select count(*) from production.customers"
    )


def test_an_append_the_statements_did_not_show_is_still_published(
    batches: Path, tmp_path: Path
) -> None:
    """Negative: a fact inserted behind the engine's back, then a run with nothing to
    load (no statement touches the facts): the row count no longer adds up, so the table
    is written whole and the catalog still equals the working database."""
    data_dir = tmp_path / "data"
    load_days(batches, data_dir, DAYS[:3])
    load_days(batches, data_dir, DAYS[:4])
    assert len(segments(data_dir)["warehouse.fact_sales"]) == 2
    work = duckdb.connect(str(data_dir / WORK_NAME))
    work.execute(
        "insert into warehouse.fact_sales select * replace (-1 as sales_key) "
        "from warehouse.fact_sales limit 1"
    )
    work.close()
    load_days(batches, data_dir, DAYS[:4])
    published = assert_catalog_equals_work(data_dir)
    assert query(data_dir, "select count(*) from warehouse.fact_sales where sales_key = -1") == [
        (1,)
    ]
    assert len(segments(data_dir)["warehouse.fact_sales"]) == 1
    assert published["warehouse.fact_sales"][0] == sum(
        segment_rows(data_dir, "warehouse.fact_sales")
    )


def test_a_catalog_changed_by_hand_is_what_the_next_run_builds_on(
    batches: Path, tmp_path: Path
) -> None:
    """The working database is rebuilt from a catalog it did not write (restored, edited):
    here the second day is struck from the processed batches, so it is loaded again."""
    data_dir = tmp_path / "data"
    load_days(batches, data_dir, DAYS[:2])
    con = duckdb.connect(str(data_dir / "cartwheel.duckdb"))
    con.execute("delete from ops.processed_batches where batch_id = ?", [DAYS[1]])
    con.close()
    assert not in_sync(data_dir / "cartwheel.duckdb")
    load_days(batches, data_dir, DAYS[:3])
    assert_catalog_equals_work(data_dir)
    assert in_sync(data_dir / "cartwheel.duckdb")
    runs = query(
        data_dir,
        "select batch_id, run_id from ops.processed_batches order by batch_id",
    )
    latest = query(data_dir, "select run_id from ops.pipeline_runs order by started_at desc")[0][0]
    assert [batch for batch, run in runs if run == latest] == [DAYS[1], DAYS[2]]


def test_a_failed_run_publishes_no_data_and_the_next_run_starts_from_the_catalog(
    batches: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The working database had the failed run's production rows; they are not kept."""
    data_dir = tmp_path / "data"
    input_dir = load_days(batches, data_dir, DAYS[:2])
    before = assert_catalog_equals_work(data_dir)
    shutil.copytree(batches / DAYS[2], input_dir / DAYS[2])
    broken = replace(STEPS["warehouse"], run=lambda context: 1 / 0)
    with monkeypatch.context() as patch:
        patch.setitem(STEPS, "warehouse", broken)
        with pytest.raises(PipelineError, match="ZeroDivisionError"):
            Pipeline(settings_for(data_dir, input_dir)).run()
    after = assert_catalog_equals_work(data_dir)
    data = [name for name in before if not name.startswith("ops.")]
    assert {name: after[name] for name in data} == {name: before[name] for name in data}
    assert query(data_dir, "select status from ops.pipeline_runs order by started_at")[-1] == (
        "failed",
    )
    load_days(batches, data_dir, DAYS[:3])
    assert (
        assert_catalog_equals_work(data_dir)["warehouse.fact_sales"]
        != before["warehouse.fact_sales"]
    )


def test_without_a_catalog_the_run_starts_from_an_empty_working_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No catalog to copy: the working database is opened once, by the run's own
    connection, and a stale one (its catalog deleted by hand) is not trusted."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    stale = duckdb.connect(str(data_dir / WORK_NAME))
    stale.execute("create table main.left_behind as select 42 as answer")
    stale.close()
    opened: list[str] = []
    connect = duckdb.connect
    monkeypatch.setattr(
        duckdb, "connect", lambda path, **options: opened.append(path) or connect(path, **options)
    )
    engine = DuckDBEngine.open_for_run(settings_for(data_dir, tmp_path / "input"))
    monkeypatch.undo()
    assert opened == [str(data_dir / WORK_NAME)]
    try:
        assert not engine.table_exists("main.left_behind")
        assert not in_sync(data_dir / "cartwheel.duckdb")  # in use until the seal
        engine.create_schemas()
        engine.execute("create table ops.note as select 'Lisbon' as city")
        engine.seal()
        engine.publish()
    finally:
        engine.con.close()
    assert in_sync(data_dir / "cartwheel.duckdb")
    assert query(data_dir, "select city from ops.note") == [("Lisbon",)]


READER = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    sql = "select count(*), sum(line_total) from warehouse.fact_sales"
    print(con.execute(sql).fetchall()[0], flush=True)
    sys.stdin.readline()
    print(con.execute(sql).fetchall()[0], flush=True)
    """
)


def test_a_reader_keeps_its_snapshot_of_the_segments_through_a_publish(
    batches: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    load_days(batches, data_dir, DAYS[:2])
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(data_dir / "cartwheel.duckdb")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        seen = reader.stdout.readline().strip()
        load_days(batches, data_dir, DAYS[:4])  # two more days in one run
        out, _ = reader.communicate("\n", timeout=30)
        assert out.strip() == seen
    finally:
        reader.kill()
    assert str(query(data_dir, READER.split('"')[1])[0]) != seen


def test_after_one_full_proof_a_run_proves_only_the_touched_keys(
    batches: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From scratch, the first batch's merge is proven over whole tables, the later
    batches' over the keys they touched; the next run trusts its working database."""
    import cartwheel.production.merge as merge

    proofs: list[bool] = []
    original = merge.verify

    def recorded(engine, scoped: bool = False) -> None:  # noqa: ANN001 - any engine
        proofs.append(scoped)
        original(engine, scoped)

    monkeypatch.setattr(merge, "verify", recorded)
    data_dir = tmp_path / "data"
    load_days(batches, data_dir, DAYS[:3])
    assert proofs == [False, True, True]
    load_days(batches, data_dir, DAYS[:4])
    assert proofs == [False, True, True, True]
