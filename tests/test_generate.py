"""Generator: counts, contract rules, determinism and daily batches on real files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cartwheel.cli import app
from cartwheel.contract import ENTITIES, core_columns
from cartwheel.generate import Profile, generate, generate_batches

SHORT = Profile.from_mapping({"start": "2024-01-01", "end": "2024-01-20"})


def read(con: duckdb.DuckDBPyConnection, folder: Path, entity: str, fmt: str = "csv") -> str:
    """A view over one raw file (or all batch files of an entity, with their day)."""
    path = folder / f"{entity}.{fmt}"
    if not path.exists():
        path = folder / "*" / f"{entity}.{fmt}"
    reader = "read_parquet" if fmt == "parquet" else "read_csv"
    con.execute(
        f"create or replace view {entity} as select *, "
        f"regexp_extract(filename, '(\\d{{4}}-\\d\\d-\\d\\d)', 1) as batch "
        f"from {reader}('{path}', filename = true)"
    )
    return entity


def one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchall()[0][0]


@pytest.fixture(scope="module")
def sf1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sf1")
    generate(out)
    return out


@pytest.fixture(scope="module")
def sf1_con(sf1: Path):
    con = duckdb.connect()
    for entity in ENTITIES:
        read(con, sf1, entity)
    yield con
    con.close()


def test_sf1_counts_are_exact(sf1: Path, sf1_con) -> None:
    counts = {e: one(sf1_con, f"select count(*) from {e}") for e in ENTITIES}
    assert counts["customers"] == 1000
    assert counts["products"] == 500
    assert counts["transactions"] == 10000
    assert 15000 <= counts["transaction_items"] <= 25000
    meta = json.loads((sf1 / "generation_metadata.json").read_text())
    assert {"generated_at", "record_counts", "date_range", "data_quality"} <= set(meta)
    assert meta["record_counts"] == counts
    assert meta["date_range"] == {"start": "2024-01-01", "end": "2025-12-31"}


def test_headers_follow_the_contract(sf1: Path) -> None:
    for entity in ENTITIES:
        header = (sf1 / f"{entity}.csv").read_text().splitlines()[0]
        assert header == ",".join(core_columns(entity))


def test_ids_formats_and_uniqueness(sf1_con) -> None:
    assert one(sf1_con, "select min(customer_id) || max(customer_id) from customers") == (
        "CUST0001CUST1000"
    )
    assert one(sf1_con, "select min(product_id) from products") == "PROD0001"
    assert one(sf1_con, "select min(transaction_id) from transactions") == "TXN00001"
    assert one(sf1_con, "select min(item_id) from transaction_items") == "ITEM00001"
    assert one(sf1_con, "select count(distinct email) from customers") == 1000
    bad_phone = (
        "select count(*) from customers where not regexp_matches(phone::varchar, '^\\d{10}$')"
    )
    assert one(sf1_con, bad_phone) == 0


def test_money_rules_hold_in_integer_cents(sf1_con) -> None:
    # line_total = round(q × price × (1 − d/100), 2), half away from zero, in exact
    # decimals (DuckDB's `/` would go through floating point).
    assert (
        one(
            sf1_con,
            """select count(*) from transaction_items
               where line_total::decimal(18, 2) <> round(quantity * unit_price::decimal(18, 2)
                   * (100 - discount_percentage) * 0.01, 2)""",
        )
        == 0
    )
    assert (
        one(
            sf1_con,
            """select count(*) from transactions t
               join (select transaction_id, sum(line_total::decimal(18, 2)) s
                     from transaction_items
                     group by all) i using (transaction_id)
               where t.total_amount::decimal(18, 2) <> i.s""",
        )
        == 0
    )
    assert (
        one(
            sf1_con,
            """select count(*) from transactions
               where transaction_id not in (select transaction_id from transaction_items)""",
        )
        == 0
    )


def test_references_and_dates_are_valid(sf1_con) -> None:
    assert (
        one(
            sf1_con,
            """select count(*) from transactions t left join customers c using (customer_id)
               where c.customer_id is null or t.transaction_date < c.registration_date""",
        )
        == 0
    )
    assert (
        one(
            sf1_con,
            """select count(*) from transaction_items i left join products p using (product_id)
               where p.product_id is null""",
        )
        == 0
    )
    assert one(sf1_con, "select max(transaction_date) from transactions") <= date(2025, 12, 31)
    assert one(sf1_con, "select min(transaction_date) from transactions") >= date(2024, 1, 1)
    assert one(sf1_con, "select count(*) from products where cost >= price or price <= 0") == 0


def test_ids_widen_with_scale(tmp_path: Path) -> None:
    profile = Profile.from_mapping({"end": "2024-01-05", "customers_per_sf": 20000})
    result = generate(tmp_path, scale=1, profile=profile)
    assert result.record_counts["customers"] == 20000
    first = (tmp_path / "customers.csv").read_text().splitlines()[1]
    assert first.startswith("CUST00001,")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_same_bytes(tmp_path: Path, fmt: str) -> None:
    generate(tmp_path / "a", seed=7, file_format=fmt)
    generate(tmp_path / "b", seed=7, file_format=fmt)
    generate(tmp_path / "c", seed=8, file_format=fmt)
    for entity in ENTITIES:
        a = (tmp_path / "a" / f"{entity}.{fmt}").read_bytes()
        assert a == (tmp_path / "b" / f"{entity}.{fmt}").read_bytes(), entity
        assert a != (tmp_path / "c" / f"{entity}.{fmt}").read_bytes(), entity


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_one_day_alone_equals_that_day_of_a_full_run(tmp_path: Path) -> None:
    full = generate_batches(tmp_path / "full", profile=SHORT)
    assert [f.name for f in full.batches] == [f"2024-01-{d:02d}" for d in range(1, 21)]
    for day in (date(2024, 1, 1), date(2024, 1, 13), date(2024, 1, 20)):
        alone = generate_batches(tmp_path / f"alone-{day}", day, 1, profile=SHORT)
        assert folder_bytes(alone.batches[0]) == folder_bytes(tmp_path / "full" / str(day))
    part = generate_batches(tmp_path / "part", date(2024, 1, 7), 5, profile=SHORT)
    for folder in part.batches:
        assert folder_bytes(folder) == folder_bytes(tmp_path / "full" / folder.name)


def test_one_day_alone_equals_full_history_day_parquet(tmp_path: Path) -> None:
    full = generate_batches(tmp_path / "full", days=6, file_format="parquet")
    alone = generate_batches(tmp_path / "alone", date(2024, 1, 6), 1, file_format="parquet")
    assert folder_bytes(alone.batches[0]) == folder_bytes(full.batches[-1])


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory):
    """A 60-day history of daily batches at scale factor 1 with frequent changes."""
    out = tmp_path_factory.mktemp("history")
    profile = Profile.from_mapping(
        {"end": "2024-02-29", "customer_change_rate": 3.0, "product_change_rate": 3.0}
    )
    result = generate_batches(out, profile=profile)
    con = duckdb.connect()
    for entity in ENTITIES:
        read(con, out, entity)
    yield out, result, con
    con.close()


def test_batches_hold_the_whole_history(history) -> None:
    out, result, con = history
    assert len(result.batches) == 60
    # Every customer and product appears (first day: everyone registered so far).
    assert one(con, "select count(distinct customer_id) from customers") == 1000
    assert one(con, "select count(distinct product_id) from products") == 500
    assert one(con, "select count(*) from transactions") == 10000
    assert (
        one(con, "select count(*) from transaction_items")
        == result.record_counts["transaction_items"]
    )
    first = one(con, "select count(*) from customers where batch = '2024-01-01'")
    assert first == one(
        con, "select count(*) from customers where registration_date <= '2024-01-01'"
    ) - one(
        con,
        """select count(*) from customers where batch > '2024-01-01'
           and registration_date <= '2024-01-01'""",
    )
    # One row per key per batch.
    assert one(con, "select count(*) - count(distinct (customer_id, batch)) from customers") == 0
    assert (
        one(
            con,
            "select count(*) from transactions where cast(transaction_date as varchar) <> batch",
        )
        == 0
    )
    meta = json.loads((out / "generation_metadata.json").read_text())
    assert meta["layout"] == "daily" and len(meta["batches"]) == 60


def test_orders_reference_only_what_exists_by_their_day(history) -> None:
    _, _, con = history
    late = """select count(*) from transactions t
        left join (select customer_id, min(batch) first from customers group by all) c
            using (customer_id)
        where c.first is null or c.first > t.batch"""
    assert one(con, late) == 0
    late = """select count(*) from transaction_items i
        left join (select product_id, min(batch) first from products group by all) p
            using (product_id)
        where p.first is null or p.first > i.batch"""
    assert one(con, late) == 0


def test_changes_feed_scd2(history) -> None:
    _, _, con = history
    versions = """with v as (
            select *, lag(city) over w as p_city, lag(email) over w as p_email,
                lag(age_group) over w as p_age, lag(registration_date) over w as p_reg,
                lag(first_name) over w as p_first
            from customers window w as (partition by customer_id order by batch))
        select count(*) filter (where p_city is not null) as changes,
            count(*) filter (where p_city <> city) as moves,
            count(*) filter (where p_email <> email) as emails,
            count(*) filter (where p_age <> age_group) as ages,
            count(*) filter (where p_city = city and p_email = email and p_age = age_group)
                as no_ops,
            count(*) filter (where p_reg <> registration_date or p_first <> first_name)
                as unstable
        from v"""
    changes, moves, emails, ages, no_ops, unstable = con.execute(versions).fetchall()[0]
    assert changes > 50 and moves > 0 and emails > 0 and ages > 0
    assert no_ops == 0 and unstable == 0
    # Moves keep city and state consistent.
    states_per_city = """select max(n) from (select city, count(distinct state) n
        from customers group by all)"""
    assert one(con, states_per_city) == 1
    prices = """with v as (
            select *, lag(price) over w as p_price, lag(product_name) over w as p_name
            from products window w as (partition by product_id order by batch))
        select count(*) filter (where p_price <> price),
            count(*) filter (where p_name <> product_name),
            count(*) filter (where p_price = price and p_name = product_name)
        from v"""
    price_changes, renames, no_ops = con.execute(prices).fetchall()[0]
    assert price_changes > 0 and renames > 0 and no_ops == 0
    # Items are sold at the price valid on their day.
    valid_price = """select i.unit_price, p.price from transaction_items i
        join products p on p.product_id = i.product_id and p.batch <= i.batch
        qualify row_number() over (partition by i.item_id order by p.batch desc) = 1"""
    assert one(con, f"select count(*) from ({valid_price}) where price <> unit_price") == 0
    assert one(con, f"select count(*) from ({valid_price})") == one(
        con, "select count(*) from transaction_items"
    )


def test_cli_batches_and_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "b"
    ok = runner.invoke(app, ["generate", "--out", str(out), "--start", "2024-03-01", "--days", "2"])
    assert ok.exit_code == 0, ok.output
    assert sorted(p.name for p in out.iterdir()) == [
        "2024-03-01",
        "2024-03-02",
        "generation_metadata.json",
    ]
    for args, message in (
        (["--day", "2024-02-30"], "not a date"),
        (["--day", "2030-01-01"], "outside the generator's history"),
        (["--day", "2024-03-01", "--days", "2"], "cannot be combined"),
        (["--defect-rate", "2"], "invalid configuration"),
        (["--format", "xml"], "unknown format"),
    ):
        bad = runner.invoke(app, ["generate", "--out", str(tmp_path / "x"), *args])
        assert bad.exit_code == 2, (args, bad.output)
        assert message in bad.output, (args, bad.output)
        assert "Traceback" not in bad.output


def test_profile_overrides_are_checked() -> None:
    assert Profile.from_mapping({"weekend_factor": "1.5"}).weekend_factor == 1.5
    with pytest.raises(ValueError, match="unknown generator profile setting"):
        Profile.from_mapping({"weekend_factr": 1.5})
    with pytest.raises(ValueError, match="before its start"):
        Profile.from_mapping({"start": "2025-01-01", "end": "2024-01-01"})


def test_products_grow_with_the_square_root_of_scale() -> None:
    profile = Profile()
    assert profile.counts(1)["products"] == 500
    assert profile.counts(100)["products"] == 5000
    assert profile.counts(5000)["customers"] == 5_000_000
    assert profile.counts(5000)["transaction_items"] == 95_000_000


def test_config_file_overrides_the_profile(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "cartwheel.yaml"
    config.write_text("generator:\n  end: 2024-01-31\n  transactions_per_sf: 500\n")
    monkeypatch.setenv("CARTWHEEL_CONFIG", str(config))
    ok = CliRunner().invoke(app, ["generate", "--out", str(tmp_path / "out")])
    assert ok.exit_code == 0, ok.output
    meta = json.loads((tmp_path / "out" / "generation_metadata.json").read_text())
    assert meta["record_counts"]["transactions"] == 500
    assert meta["date_range"]["end"] == "2024-01-31"
    config.write_text("generator:\n  weekend_factr: 2\n")
    bad = CliRunner().invoke(app, ["generate", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "unknown generator profile setting" in bad.output
