"""Incremental daily loads on a generated history (`cartwheel generate --days`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cartwheel.contract import RAW_COLUMNS
from cartwheel.ingest.batches import discover_batches
from cartwheel.ingest.raw_files import InputError
from tests.conftest import run_cli
from tests.test_scd2_checks import assert_invariants, connect, rows, snapshot, write_batch

DAYS = 10
SCALE = "3"  # enough changes that some sales point at versions closed later
START = "2024-01-01"  # the first day holds the initial customers and catalogue


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DAYS generated daily batches (with customer and product changes)."""
    out = tmp_path_factory.mktemp("history") / "batches"
    run_cli("generate", "--scale", SCALE, "--start", START, "--days", str(DAYS), "--out", str(out))
    return out


@pytest.fixture(scope="module")
def all_at_once(history: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("all_at_once")
    run_cli("run", "--input", str(history), "--data-dir", str(data))
    return data


def days_of(history: Path) -> list[Path]:
    return sorted(p for p in history.iterdir() if p.is_dir())


def test_every_batch_is_processed_once_in_date_order(history: Path, all_at_once: Path) -> None:
    con = connect(all_at_once)
    processed = rows(
        con,
        "select batch_id, business_date::varchar from ops.processed_batches order by processed_at",
    )
    con.close()
    names = [p.name for p in days_of(history)]
    assert len(names) == DAYS
    assert processed == [(name, name) for name in names]


def test_generated_history_keeps_the_invariants(all_at_once: Path) -> None:
    assert_invariants(all_at_once)
    con = connect(all_at_once)
    # The generated changes really produced history (several versions of some keys).
    versioned = rows(
        con,
        """select (select count(*) - count(distinct customer_id) from warehouse.dim_customers),
            (select count(*) - count(distinct product_id) from warehouse.dim_products)""",
    )[0]
    con.close()
    assert versioned[0] > 0 and versioned[1] > 0


def test_facts_carry_the_city_of_the_day_of_the_sale(all_at_once: Path) -> None:
    """Independent of the dimension: the city in the latest history row dated on or
    before the sale (the first row for sales before it) equals the fact's version."""
    con = connect(all_at_once)
    mismatches = rows(
        con,
        """with sales as (
            select f.item_id, t.customer_id, t.transaction_date, c.city
            from warehouse.fact_sales f
            join production.transactions t using (transaction_id)
            join warehouse.dim_customers c using (customer_key)
        ),
        candidates as (
            select s.item_id, s.city as fact_city, h.city as history_city,
                row_number() over (
                    partition by s.item_id
                    order by (h.business_date <= s.transaction_date) desc,
                        case when h.business_date <= s.transaction_date
                            then h.business_date end desc,
                        h.business_date
                ) as pick
            from sales s join production.customer_history h using (customer_id)
        )
        select count(*) from candidates
        where pick = 1 and fact_city is distinct from history_city""",
    )[0][0]
    moved = rows(
        con,
        """select count(*) from warehouse.fact_sales f
        join warehouse.dim_customers c using (customer_key)
        join warehouse.dim_products p using (product_key)
        where not c.is_current or not p.is_current""",
    )[0][0]
    con.close()
    assert mismatches == 0
    assert moved > 0  # some sales point at a version that is no longer current


def test_rerun_changes_nothing(history: Path, all_at_once: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(all_at_once, data)
    run_cli("run", "--input", str(history), "--data-dir", str(data))
    assert snapshot(data) == snapshot(all_at_once)


@pytest.mark.slow
def test_one_day_at_a_time_and_late_days_equal_all_at_once(
    history: Path, all_at_once: Path, tmp_path: Path
) -> None:
    """Days 1..N in N runs, with day 4 held back until the end (a late batch), build
    the same warehouse as all N days in one run."""
    days = days_of(history)
    late = days[3]
    data, input_dir = tmp_path / "data", tmp_path / "input"
    input_dir.mkdir()
    for day in [d for d in days if d != late] + [late]:
        shutil.copytree(day, input_dir / day.name)
        run_cli("run", "--input", str(input_dir), "--data-dir", str(data))
    assert_invariants(data)
    assert snapshot(data) == snapshot(all_at_once)


def test_a_new_day_generated_later_is_picked_up(
    history: Path, all_at_once: Path, tmp_path: Path
) -> None:
    """`cartwheel generate --day` into the same folder; the next run loads only it."""
    input_dir, data = tmp_path / "input", tmp_path / "data"
    shutil.copytree(history, input_dir)
    shutil.copytree(all_at_once, data)
    con = connect(data)
    facts_before = rows(con, "select count(*) from warehouse.fact_sales")[0][0]
    con.close()
    next_day = f"2024-01-{DAYS + 1:02d}"
    run_cli("generate", "--scale", SCALE, "--day", next_day, "--out", str(input_dir))
    run_cli("run", "--input", str(input_dir), "--data-dir", str(data))
    con = connect(data)
    new_items = rows(
        con,
        f"""select count(*) from production.transaction_items i
        join production.transactions t using (transaction_id)
        where t.transaction_date = date '{next_day}'""",
    )[0][0]
    facts_after = rows(con, "select count(*) from warehouse.fact_sales")[0][0]
    runs = rows(con, "select count(distinct run_id) from ops.processed_batches")[0][0]
    con.close()
    assert new_items > 0
    assert facts_after == facts_before + new_items
    assert runs == 2
    assert_invariants(data)


def test_batch_discovery_orders_days_and_names_what_is_missing(tmp_path: Path) -> None:
    for day in ("2024-01-10", "2024-01-02", "2024-01-09"):
        write_batch(tmp_path, day, {})
    (tmp_path / "notes").mkdir()  # not a day: ignored
    (tmp_path / "2024-02-30").mkdir()  # meant as a day but not one: refused, never skipped
    with pytest.raises(InputError, match=r"not named as a valid day YYYY-MM-DD: 2024-02-30/"):
        discover_batches(tmp_path)
    (tmp_path / "2024-02-30").rmdir()
    found = discover_batches(tmp_path)
    assert [(b.batch_id, b.business_date.isoformat()) for b in found] == [
        ("2024-01-02", "2024-01-02"),
        ("2024-01-09", "2024-01-09"),
        ("2024-01-10", "2024-01-10"),
    ]
    (tmp_path / "2024-01-09" / "products.csv").unlink()
    with pytest.raises(InputError, match=r"2024-01-09: missing raw file\(s\): products.csv"):
        discover_batches(tmp_path)
    # The four files directly in the folder: one snapshot batch, dated by its data.
    snapshot_dir = write_batch(tmp_path, "shop_export", {})
    [single] = discover_batches(snapshot_dir)
    assert (single.batch_id, single.business_date) == ("shop_export", None)


def test_a_batch_repeating_current_values_adds_no_versions(
    history: Path, all_at_once: Path, tmp_path: Path
) -> None:
    """A new day whose files hold every customer and product exactly as they are now
    (no sales) leaves the dimensions, facts and aggregates as they were."""
    input_dir, data = tmp_path / "input", tmp_path / "data"
    shutil.copytree(history, input_dir)
    shutil.copytree(all_at_once, data)
    day = input_dir / f"2024-01-{DAYS + 1:02d}"
    write_batch(input_dir, day.name, {})
    con = connect(data)
    for entity in ("customers", "products"):
        columns = ", ".join(RAW_COLUMNS[entity])
        con.execute(
            f"copy (select {columns} from production.{entity}) "
            f"to '{day / (entity + '.csv')}' (header true)"
        )
    con.close()
    run_cli("run", "--input", str(input_dir), "--data-dir", str(data))
    before, after = snapshot(all_at_once), snapshot(data)
    assert after == before
    con = connect(data)
    repeated = rows(
        con, f"select count(*) from production.customer_history where batch_id = '{day.name}'"
    )[0][0]
    con.close()
    assert repeated == len(before["production.customers"]) > 0
