"""Several pending daily batches: the warehouse loads consecutive ones in one pass, and
every table comes out as if each batch had had its own pass (ops.warehouse_backlog,
batch-by-batch surrogate keys). Compared row for row with `batch_grouping: false`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cartwheel.cli import app
from cartwheel.warehouse import dimensions
from tests.conftest import run_cli
from tests.test_scd2_checks import assert_invariants, write_batch

COUNTRY = "Ireland"


def customer(
    cid: str, first: str, last: str, city: str, age: str = "36-45", reg: str = "", email: str = ""
):
    email = email or f"{cid.lower()}@example.ie"
    return (cid, first, last, email, "0861234567", reg or "2023-11-20", city, "", COUNTRY, age)


SIOBHAN = ("C-ODONNELL", "Siobhán", "O'Donnell")
EWAN = ("C-MACDONALD", "Ewan", "MacDonald")
PIETER = ("C-VDBERG", "Pieter", "van der Berg")
JOSE = ("C-GARCIA", "José María", "García")
WEI = ("C-ZHANG", "伟", "张")
AINE = ("C-OBRIEN", "Áine", "O'Brien")


def product(pid: str, name: str, price: str, cost: str, category: str = "Home"):
    return (pid, name, category, "Kitchen", price, cost, "Avoca", "40", "SUP-7")


KETTLE = ("P-KETTLE", "Copper kettle")
BOWL = ("P-BOWL", "Oak salad bowl")


def sale(txn: str, cid: str, day: str, lines: list[tuple[str, str, str, str]], total: str):
    """A transaction and its items: (item id, product id, quantity, unit price)."""
    transaction = (txn, cid, day, "11:30:00", "Credit Card", "4 Quay Street", total)
    items = [
        (item, txn, pid, quantity, price, "0", f"{float(quantity) * float(price):.2f}")
        if quantity.isdigit()
        else (item, txn, pid, quantity, price, "0", price)
        for item, pid, quantity, price in lines
    ]
    return transaction, items


def day_rows(customers=(), products=(), sales=()) -> dict[str, list[tuple]]:
    return {
        "customers": list(customers),
        "products": list(products),
        "transactions": [transaction for transaction, _ in sales],
        "transaction_items": [item for _, items in sales for item in items],
    }


# Six days of a shop in Galway. Comments say what each day exercises.
DAYS = {
    "2024-03-01": day_rows(
        [
            customer(*SIOBHAN, "Galway"),
            customer(*EWAN, "Cork"),
            customer(*PIETER, "Sligo"),
        ],
        [product(*KETTLE, "80.00", "50.00"), product(*BOWL, "30.00", "18.00")],
        [
            sale("T-1001", "C-ODONNELL", "2024-03-01", [("I-1", "P-KETTLE", "1", "80.00")], "80"),
            sale("T-1002", "C-MACDONALD", "2024-03-01", [("I-2", "P-BOWL", "2", "30.00")], "60"),
            # A defect: an unreadable quantity holds the whole order in quarantine.
            sale("T-1003", "C-VDBERG", "2024-03-01", [("I-3", "P-BOWL", "two", "30.00")], "60"),
        ],
    ),
    "2024-03-02": day_rows(
        # SCD2 change on day 2: Siobhán moves to Dublin; José María registers.
        [customer(*SIOBHAN, "Dublin"), customer(*JOSE, "Limerick", reg="2024-03-02")],
        [],
        [
            sale("T-1004", "C-ODONNELL", "2024-03-02", [("I-4", "P-BOWL", "1", "30.00")], "30"),
            # 张伟 arrives only on day 3: held in quarantine, released then.
            sale("T-1005", "C-ZHANG", "2024-03-02", [("I-5", "P-KETTLE", "1", "80.00")], "80"),
        ],
    ),
    "2024-03-03": day_rows(
        [customer(*WEI, "Galway", reg="2024-03-01")],
        [],
        [
            # The id of a day-1 order sent again: the first batch's row wins.
            sale("T-1001", "C-MACDONALD", "2024-03-03", [("I-6", "P-BOWL", "1", "30.00")], "30"),
            # Two versions of one order in one batch: the latest wins.
            sale("T-1006", "C-GARCIA", "2024-03-03", [("I-7", "P-BOWL", "1", "30.00")], "30"),
            sale("T-1006", "C-GARCIA", "2024-03-03", [("I-7", "P-BOWL", "3", "30.00")], "90"),
        ],
    ),
    "2024-03-04": day_rows(
        # SCD2 changes on day 4: the kettle's price and cost, Ewan's age group.
        [customer(*EWAN, "Cork", age="46-55")],
        [product(*KETTLE, "95.00", "55.00")],
        [
            sale("T-1007", "C-MACDONALD", "2024-03-04", [("I-9", "P-KETTLE", "2", "95.00")], "190"),
            # A sale of day 2 arriving late: it takes the versions valid on day 2.
            sale("T-1008", "C-ODONNELL", "2024-03-02", [("I-10", "P-KETTLE", "1", "80.00")], "80"),
        ],
    ),
    "2024-03-05": day_rows(
        [customer(*PIETER, "Westport")],
        [product(*BOWL, "32.00", "18.00")],
        [
            sale("T-1009", "C-VDBERG", "2024-03-05", [("I-11", "P-BOWL", "1", "32.00")], "32"),
            sale("T-1010", "C-ZHANG", "2024-03-05", [("I-12", "P-KETTLE", "1", "95.00")], "95"),
        ],
    ),
    "2024-03-06": day_rows(
        # Áine signs up with the email Ewan has held since day 1: held back.
        [customer(*AINE, "Ennis", email="c-macdonald@example.ie")],
        [],
        [],
    ),
}

# Tables whose rows describe runs, not data: compared separately (or not at all).
RUN_TABLES = {"ops.pipeline_runs", "ops.step_runs", "ops.run_batches"}
# Columns that differ between any two runs of the same data.
RUN_COLUMNS = {"run_id", "released_run_id", "duration_seconds", "source_folder", "pid"}


def load(input_dir: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, grouped: bool) -> None:
    monkeypatch.setenv("CARTWHEEL_BATCH_GROUPING", "true" if grouped else "false")
    run_cli("run", "--input", str(input_dir), "--data-dir", str(data_dir))


def write_days(root: Path, days: dict[str, dict[str, list[tuple]]]) -> Path:
    for day, content in days.items():
        write_batch(root, day, content)
    return root


def tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    found = con.execute(
        "select schema_name || '.' || table_name from duckdb_tables() "
        "where database_name = current_database() "
        "and schema_name in ('production', 'warehouse', 'ops') "
        "union select schema_name || '.' || view_name from duckdb_views() "
        "where database_name = current_database() and not internal "
        "and schema_name in ('production', 'warehouse', 'ops') order by 1"
    ).fetchall()
    return [name for (name,) in found]


def differences(a: Path, b: Path) -> dict[str, tuple[int, int]]:
    """Per table of `a`: rows only in a and only in b (EXCEPT ALL both ways), without
    timestamps and run ids; run tables left out."""
    con = duckdb.connect()
    con.execute(f"attach '{a / 'cartwheel.duckdb'}' as a (read_only)")
    con.execute(f"attach '{b / 'cartwheel.duckdb'}' as b (read_only)")
    con.execute("use a")
    found = {}
    for table in tables(con):
        if table in RUN_TABLES:
            continue
        schema, name = table.split(".")
        columns = con.execute(
            "select column_name from duckdb_columns() where database_name = 'a' "
            "and schema_name = ? and table_name = ? and data_type not like 'TIMESTAMP%' "
            "order by column_index",
            [schema, name],
        ).fetchall()
        names = ", ".join(f'"{c}"' for (c,) in columns if c not in RUN_COLUMNS)
        only = [
            con.execute(
                f"select count(*) from (select {names} from {x}.{table} "
                f"except all select {names} from {y}.{table})"
            ).fetchone()[0]
            for x, y in (("a", "b"), ("b", "a"))
        ]
        found[table] = (only[0], only[1])
    con.close()
    return found


def step_attempts(data_dir: Path) -> list[tuple[str, str, int]]:
    con = duckdb.connect(str(data_dir / "cartwheel.duckdb"), read_only=True)
    found = con.execute(
        "select step, status, count(*) from ops.step_runs group by step, status order by 1, 2"
    ).fetchall()
    con.close()
    return found


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The six days in one run: grouped, and with one warehouse pass per batch."""
    root = tmp_path_factory.mktemp("groups")
    write_days(root / "input", DAYS)
    with pytest.MonkeyPatch.context() as monkeypatch:
        load(root / "input", root / "grouped", monkeypatch, grouped=True)
        load(root / "input", root / "one_by_one", monkeypatch, grouped=False)
    return root / "grouped", root / "one_by_one"


def test_grouped_batches_give_every_table_row_for_row(both: tuple[Path, Path]) -> None:
    grouped, one_by_one = both
    found = differences(grouped, one_by_one)
    assert {t: d for t, d in found.items() if d != (0, 0)} == {}
    assert {"warehouse.dim_customers", "warehouse.fact_sales", "ops.quarantine"} <= set(found)
    assert_invariants(grouped)


def test_the_fixture_exercises_every_rule(both: tuple[Path, Path]) -> None:
    con = duckdb.connect(str(both[0] / "cartwheel.duckdb"), read_only=True)
    # Versions: Siobhán from day 2, Ewan from day 4, Pieter from day 5; the kettle from
    # day 4, the bowl from day 5. New keys go batch by batch (张伟, registered on day 1
    # but sent on day 3, gets key 6 after day 2's keys), by customer id within a batch.
    assert con.execute(
        "select customer_id, customer_key, effective_date::varchar, is_current "
        "from warehouse.dim_customers where customer_id in ('C-ODONNELL', 'C-MACDONALD') "
        "order by customer_key"
    ).fetchall() == [
        ("C-MACDONALD", 1, "2023-11-20", False),
        ("C-ODONNELL", 2, "2023-11-20", False),
        ("C-ODONNELL", 5, "2024-03-02", True),
        ("C-MACDONALD", 7, "2024-03-04", True),
    ]
    assert con.execute("select count(*) from warehouse.dim_products").fetchone()[0] == 4
    # Quarantine: the unreadable quantity (item and order), the re-sent id, the earlier
    # version of T-1006; 张伟's order was held on day 2 and released on day 3.
    assert con.execute(
        "select batch_id, record_key, reason, released_at is not null from ops.quarantine "
        "where stage = 'quality' order by batch_id, entity, source_line"
    ).fetchall() == [
        ("2024-03-01", "I-3", "unparseable_quantity", False),
        ("2024-03-01", "T-1003", "rejected_items", False),
        ("2024-03-02", "I-5", "parent_transaction_rejected", True),
        ("2024-03-02", "T-1005", "orphan_customer_id", True),
        ("2024-03-03", "I-6", "parent_transaction_rejected", False),
        ("2024-03-03", "T-1001", "duplicate_of_earlier_batch", False),
        ("2024-03-06", "C-OBRIEN", "duplicate_email", False),
    ]
    # Of the two versions of T-1006 (and its item I-7), the latest: 3 bowls.
    assert con.execute(
        "select total_amount, quantity from production.transactions "
        "join production.transaction_items using (transaction_id) "
        "where transaction_id = 'T-1006'"
    ).fetchall() == [(90, 3)]
    # Facts in batch order; the late day-2 sale took Siobhán's Dublin version and the
    # kettle's first price.
    assert con.execute(
        "select sales_key, item_id, customer_key, product_key from warehouse.fact_sales "
        "order by sales_key"
    ).fetchall()[:4] == [(1, "I-1", 2, 2), (2, "I-2", 1, 1), (3, "I-4", 5, 1), (4, "I-5", 6, 2)]
    assert con.execute(
        "select customer_key, product_key from warehouse.fact_sales where item_id = 'I-10'"
    ).fetchall() == [(5, 2)]
    con.close()


def test_the_warehouse_ran_once_for_the_group(both: tuple[Path, Path]) -> None:
    grouped, one_by_one = both
    assert step_attempts(grouped) == [
        ("analytics", "success", 1),
        ("dashboard", "success", 1),
        ("ingest", "success", 6),
        ("production", "success", 6),
        ("quality", "success", 6),
        ("warehouse", "success", 1),
    ]
    assert ("warehouse", "success", 6) in step_attempts(one_by_one)


def test_the_reports_hold_every_batch(both: tuple[Path, Path]) -> None:
    """The run's reports (held in memory while its batches run, written once) keep each
    batch's score and conservation equations, in batch order, as one pass per batch."""
    for data in both:
        report = json.loads((data / "quality_report.json").read_text())
        assert [entry["batch_ids"] for entry in report["batches"]] == [[day] for day in DAYS]
        assert all(entry["gate"]["passed"] for entry in report["batches"])
        summary = json.loads((data / "transformation_summary.json").read_text())
        assert len(summary["conservation"]) == 4 * len(DAYS)
        assert summary["conservation"][0].startswith("customers [2024-03-01]: rows in 3 =")
        loaded = json.loads((data / "ingestion_summary.json").read_text())["tables_loaded"]
        assert loaded["customers"]["rows_loaded"] == 1  # the last batch's: Áine
    assert (
        report["conservation"]
        == json.loads((both[0] / "quality_report.json").read_text())["conservation"]
    )


def test_analytics_files_are_byte_identical(both: tuple[Path, Path]) -> None:
    grouped, one_by_one = both
    files = sorted(p.name for p in (grouped / "analytics").glob("*.csv"))
    assert len(files) >= 10
    for name in files:
        assert (grouped / "analytics" / name).read_bytes() == (
            one_by_one / "analytics" / name
        ).read_bytes(), name


def test_new_keys_must_be_numbered_batch_by_batch(
    both: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Negative: numbered by business key over the whole group, the new versions get
    other surrogate keys than one pass per batch gives (and the facts follow them)."""
    update = dimensions.update_dimension
    monkeypatch.setattr(
        "cartwheel.warehouse.batch_load.update_dimension",
        lambda engine, dim, grouped=False: update(engine, dim, grouped=False),
    )
    write_days(tmp_path / "input", DAYS)
    load(tmp_path / "input", tmp_path / "data", monkeypatch, grouped=True)
    found = differences(tmp_path / "data", both[1])
    assert found["warehouse.dim_customers"] != (0, 0)
    assert found["warehouse.fact_sales"] != (0, 0)
    assert found["production.customer_history"] == (0, 0)


def test_a_late_batch_has_its_own_pass(
    both: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Days 1, 2, 4 first; then day 3 (late) and day 5 in one run: day 3 may reshape
    version chains before day 4, so it is not grouped with day 5 — and the tables equal
    the in-order load's."""
    data = tmp_path / "data"
    write_days(tmp_path / "input", {d: DAYS[d] for d in ("2024-03-01", "2024-03-02", "2024-03-04")})
    load(tmp_path / "input", data, monkeypatch, grouped=True)
    reference = tmp_path / "reference"
    load(tmp_path / "input", reference, monkeypatch, grouped=False)
    write_days(tmp_path / "input", {d: DAYS[d] for d in ("2024-03-03", "2024-03-05")})
    load(tmp_path / "input", data, monkeypatch, grouped=True)
    load(tmp_path / "input", reference, monkeypatch, grouped=False)
    # First run: one pass for three days; second run: one each for the late and new day.
    assert ("warehouse", "success", 3) in step_attempts(data)
    found = differences(data, reference)
    assert {t: d for t, d in found.items() if d != (0, 0)} == {}


def test_a_batch_stopped_by_the_gate_lets_the_earlier_ones_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Day 3 fails the quality gate: the warehouse still gets its pass over days 1-2
    before the run stops (as one pass per batch would), and after day 3 is corrected the
    next run ends with the same tables as one pass per batch."""
    broken = {
        **DAYS["2024-03-03"],
        "transaction_items": [
            (f"I-X{n}", "T-1006", "P-BOWL", "many", "30.00", "0", "30") for n in range(9)
        ],
    }
    days = {"2024-03-01": DAYS["2024-03-01"], "2024-03-02": DAYS["2024-03-02"]}
    input_dir = tmp_path / "input"  # one folder for both (source_file is compared)
    outcomes = {}
    for grouped in (True, False):
        shutil.rmtree(input_dir, ignore_errors=True)
        data = tmp_path / str(grouped)
        write_days(input_dir, {**days, "2024-03-03": broken})
        monkeypatch.setenv("CARTWHEEL_BATCH_GROUPING", str(grouped).lower())
        result = CliRunner().invoke(
            app, ["run", "--input", str(input_dir), "--data-dir", str(data)]
        )
        assert result.exit_code == 1
        assert "quality gate stopped the run" in result.output
        outcomes[grouped] = step_attempts(data)
        shutil.rmtree(input_dir / "2024-03-03")
        write_days(input_dir, {d: DAYS[d] for d in ("2024-03-03", "2024-03-04")})
        load(input_dir, data, monkeypatch, grouped=grouped)
    assert ("warehouse", "success", 1) in outcomes[True]
    assert ("warehouse", "success", 2) in outcomes[False]
    assert ("quality", "failed", 1) in outcomes[True]
    assert [row for row in outcomes[True] if row[0] != "warehouse"] == [
        row for row in outcomes[False] if row[0] != "warehouse"
    ]
    found = differences(tmp_path / "True", tmp_path / "False")
    assert {t: d for t, d in found.items() if d != (0, 0)} == {}


FACT_STATE = """select
    (select count(*) from production.transaction_items),
    (select sum(line_total) from production.transaction_items),
    (select count(*) from warehouse.fact_sales),
    (select sum(line_total) from warehouse.fact_sales),
    (select sum(profit) from warehouse.fact_sales),
    (select sum(total_revenue) from warehouse.agg_daily_sales),
    (select sum(total_profit) from warehouse.agg_daily_sales),
    (select sum(total_quantity_sold) from warehouse.agg_product_performance),
    (select sum(total_spent) from warehouse.agg_customer_metrics),
    (select count(*) from ops.warehouse_backlog)"""


def fact_state(data_dir: Path) -> tuple:
    con = duckdb.connect(str(data_dir / "cartwheel.duckdb"), read_only=True)
    found = con.execute(FACT_STATE).fetchone()
    con.close()
    return found


def lose_the_queue_of_sales_on(day: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Production commits the items sold on `day` without queueing them for the warehouse."""
    from cartwheel.production import merge

    statements = merge.sql_statements
    lost = f" and transactions.transaction_date <> date '{day}'"

    def without_the_day(name: str) -> list[str]:
        found = statements(name)
        if not name.endswith("backlog.sql"):
            return found
        *clear, insert = found  # the queue's insert is the file's last statement
        return [*clear, insert + lost]

    monkeypatch.setattr(merge, "sql_statements", without_the_day)


@pytest.mark.parametrize("grouped", [True, False])
def test_items_whose_queue_entry_was_lost_still_become_facts(
    both: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    grouped: bool,
) -> None:
    """The items sold on day 2 (sent on days 2, 3 and 4) reach production but not
    ops.warehouse_backlog: the warehouse finds them (production items that are neither
    facts nor queued), and the facts, their sums and the aggregates equal an undisturbed
    run's."""
    lose_the_queue_of_sales_on("2024-03-02", monkeypatch)
    write_days(tmp_path / "input", DAYS)
    load(tmp_path / "input", tmp_path / "data", monkeypatch, grouped=grouped)
    expected = fact_state(both[1])
    assert expected[0] == expected[2] == 9  # nine promoted items, nine facts
    assert fact_state(tmp_path / "data") == expected
    assert_invariants(tmp_path / "data")
    queued = [r.getMessage() for r in caplog.records if "neither a fact" in r.getMessage()]
    # Grouped: one pass finds all three; one by one, each of days 2-4 finds its own.
    message = "warehouse: queued {} production items that had neither a fact nor a queue entry"
    assert queued == ([message.format(3)] if grouped else [message.format(1)] * 3)


def test_without_the_search_the_lost_items_have_no_facts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Negative: with the search for unqueued items switched off, the three items sold on
    day 2 (I-4; 张伟's I-5, released on day 3; the late I-10) have no fact."""
    lose_the_queue_of_sales_on("2024-03-02", monkeypatch)
    monkeypatch.setattr("cartwheel.warehouse.batch_load.queue_missing_items", lambda *a: None)
    write_days(tmp_path / "input", DAYS)
    load(tmp_path / "input", tmp_path / "data", monkeypatch, grouped=True)
    items, _, facts, *_ = fact_state(tmp_path / "data")
    assert (items, facts) == (9, 6)


TEAPOT = ("P-TEAPOT", "Cast-iron teapot")

# Three more days, for the rules a pass over several batches must keep batch by batch
# (what grouping quality and production will have to reproduce).
MORE_DAYS = {
    "2024-03-07": day_rows(
        [
            # Re-sent unchanged (as on day 4): no new version.
            customer(*EWAN, "Cork", age="46-55"),
            # Two changes to one key in one batch: the later row wins.
            customer(*SIOBHAN, "Galway"),
            customer(*SIOBHAN, "Athlone"),
        ],
        [],
        # The teapot arrives only on day 8: the order waits for it.
        [sale("T-1011", "C-ZHANG", "2024-03-07", [("I-20", "P-TEAPOT", "1", "45.00")], "45")],
    ),
    "2024-03-08": day_rows(
        # Siobhán back in Dublin (a value returns); the teapot arrives.
        [customer(*SIOBHAN, "Dublin")],
        [product(*TEAPOT, "45.00", "20.00")],
        [sale("T-1012", "C-GARCIA", "2024-03-08", [("I-21", "P-TEAPOT", "2", "45.00")], "90")],
    ),
    "2024-03-09": day_rows(
        # The teapot's cost changes: a sale of that day takes the new cost. Áine, held
        # since day 6 (taken email), orders: her order waits with her.
        [],
        [product(*TEAPOT, "45.00", "22.00")],
        [
            sale("T-1013", "C-VDBERG", "2024-03-09", [("I-22", "P-TEAPOT", "1", "45.00")], "45"),
            sale("T-1014", "C-OBRIEN", "2024-03-09", [("I-23", "P-BOWL", "1", "32.00")], "32"),
        ],
    ),
}


@pytest.fixture(scope="module")
def more(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """All nine days in one run: grouped, and one warehouse pass per batch."""
    root = tmp_path_factory.mktemp("more")
    write_days(root / "input", {**DAYS, **MORE_DAYS})
    with pytest.MonkeyPatch.context() as monkeypatch:
        load(root / "input", root / "grouped", monkeypatch, grouped=True)
        load(root / "input", root / "one_by_one", monkeypatch, grouped=False)
    return root / "grouped", root / "one_by_one"


def test_more_rules_give_every_table_row_for_row(more: tuple[Path, Path]) -> None:
    grouped, one_by_one = more
    assert ("warehouse", "success", 1) in step_attempts(grouped)
    assert ("warehouse", "success", 9) in step_attempts(one_by_one)
    found = differences(grouped, one_by_one)
    assert {t: d for t, d in found.items() if d != (0, 0)} == {}
    assert_invariants(grouped)
    con = duckdb.connect(str(grouped / "cartwheel.duckdb"), read_only=True)
    # Siobhán: Athlone (the later of day 7's two rows), then Dublin again on day 8.
    assert con.execute(
        "select city, effective_date::varchar, end_date::varchar from warehouse.dim_customers "
        "where customer_id = 'C-ODONNELL' order by effective_date"
    ).fetchall() == [
        ("Galway", "2023-11-20", "2024-03-02"),
        ("Dublin", "2024-03-02", "2024-03-07"),
        ("Athlone", "2024-03-07", "2024-03-08"),
        ("Dublin", "2024-03-08", None),
    ]
    # Ewan re-sent unchanged on day 7: a history row for the day, no new version.
    assert con.execute(
        "select business_date::varchar from production.customer_history "
        "where customer_id = 'C-MACDONALD' order by 1"
    ).fetchall() == [("2024-03-01",), ("2024-03-04",), ("2024-03-07",)]
    assert (
        con.execute(
            "select count(*) from warehouse.dim_customers where customer_id = 'C-MACDONALD'"
        ).fetchone()[0]
        == 2
    )
    # The teapot's order waited a day for the teapot; Áine's waits for her.
    assert con.execute(
        "select batch_id, record_key, reason, released_at is not null from ops.quarantine "
        "where batch_id >= '2024-03-07' order by batch_id, entity, source_line"
    ).fetchall() == [
        ("2024-03-07", "I-20", "orphan_product_id", True),
        ("2024-03-07", "T-1011", "rejected_items", True),
        ("2024-03-09", "I-23", "parent_transaction_rejected", False),
        ("2024-03-09", "T-1014", "customer_rejected", False),
    ]
    # Profit with the cost valid on each sale's date: 20 (stretched back to day 7 for
    # I-20), 20, then 22 from day 9.
    assert con.execute(
        "select item_id, profit from warehouse.fact_sales where item_id like 'I-2_' "
        "order by item_id"
    ).fetchall() == [("I-20", 25), ("I-21", 50), ("I-22", 23)]
    con.close()


def test_a_production_pass_run_again_queues_its_items_once(tmp_path: Path) -> None:
    """Production run twice for day 1 before the warehouse (a re-run of the step) queues
    each item once, not twice: the warehouse then counts each sale once in every
    aggregate, as an uninterrupted run does (before, agg_product_performance and
    agg_customer_metrics counted the items twice: 2 x 140.00 spent)."""
    folder = write_batch(tmp_path / "input", "2024-03-01", DAYS["2024-03-01"])
    data = str(tmp_path / "data")
    run_cli("ingest", "--input", str(folder), "--data-dir", data)
    run_cli("quality", "--data-dir", data)
    for _ in range(2):
        run_cli("production", "--data-dir", data)
    con = duckdb.connect(str(tmp_path / "data" / "cartwheel.duckdb"), read_only=True)
    assert con.execute(
        "select batch_id, item_id from ops.warehouse_backlog order by item_id"
    ).fetchall() == [("2024-03-01", "I-1"), ("2024-03-01", "I-2")]
    con.close()
    run_cli("warehouse", "--data-dir", data)
    # Two items (I-3 is quarantined): 80.00 + 60.00 everywhere, queue emptied.
    assert fact_state(tmp_path / "data") == (2, 140, 2, 140, 54, 140, 54, 3, 140, 0)


def test_a_backlog_queued_twice_by_one_batch_still_gives_one_fact_per_item(
    tmp_path: Path,
) -> None:
    """A backlog left with every day-1 item queued twice by day 1 (as production queued
    a re-run before it replaced a batch's entries) takes the search for first entries:
    one fact per item and every aggregate counted once."""
    folder = write_batch(tmp_path / "input", "2024-03-01", DAYS["2024-03-01"])
    data = str(tmp_path / "data")
    for step in (("ingest", "--input", str(folder)), ("quality",), ("production",)):
        run_cli(*step, "--data-dir", data)
    con = duckdb.connect(str(tmp_path / "data" / "cartwheel.duckdb"))
    con.execute("insert into ops.warehouse_backlog select * from ops.warehouse_backlog")
    assert con.execute("select count(*) from ops.warehouse_backlog").fetchone()[0] == 4
    con.close()
    run_cli("warehouse", "--data-dir", data)
    assert fact_state(tmp_path / "data") == (2, 140, 2, 140, 54, 140, 54, 3, 140, 0)
