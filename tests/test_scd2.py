"""SCD2 history and point-in-time facts on small hand-made daily batches."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_cli
from tests.test_scd2_checks import (
    assert_invariants,
    connect,
    invariant_violations,
    rows,
    snapshot,
    write_batch,
)


def customer(n: int, city: str, state: str, age: str = "26-35", email: str = "", reg: str = ""):
    first, last = {1: ("Ann", "Lee"), 2: ("Bob", "Ray"), 3: ("Cy", "Orr")}[n]
    return (
        f"CUST000{n}",
        first,
        last,
        email or f"{first.lower()}@example.com",
        f"555000{n}111",
        reg or ("2023-06-01" if n == 1 else "2024-01-01"),
        city,
        state,
        "USA",
        age,
    )


def product(n: int, name: str, price: str, cost: str):
    category, sub = {1: ("Electronics", "Phones"), 2: ("Books", "Fiction")}[n]
    return (f"PROD000{n}", name, category, sub, price, cost, "Acme", "10", "SUP001")


def sale(txn: int, customer_id: int, day: str, product_id: int, quantity: int, price: str):
    total = f"{Decimal(price) * quantity:.2f}"
    return (
        (f"TXN0000{txn}", f"CUST000{customer_id}", day, "10:00:00", "UPI", "1 Main St", total),
        (f"ITEM0000{txn}", f"TXN0000{txn}", f"PROD000{product_id}", quantity, price, 0, total),
    )


def day_rows(customers=(), products=(), sales=()) -> dict[str, list[tuple]]:
    return {
        "customers": list(customers),
        "products": list(products),
        "transactions": [s[0] for s in sales],
        "transaction_items": [s[1] for s in sales],
    }


# Five days of one tiny shop. Every changed row is a full row with the new values.
DAYS = {
    "2024-01-01": day_rows(
        [customer(1, "Austin", "TX"), customer(2, "", "CA")],  # Bob's city is missing
        [product(1, "Widget", "100.00", "60.00"), product(2, "Novel", "20.00", "12.00")],
        [sale(1, 1, "2024-01-01", 1, 1, "100.00"), sale(2, 2, "2024-01-01", 2, 2, "20.00")],
    ),
    "2024-01-02": day_rows(
        [customer(1, "Dallas", "TX")],  # Ann moves: tracked
        # New price and cost (tracked) and a new name (type 1, in place).
        [product(1, "Widget Pro", "120.00", "70.00")],
        [sale(3, 1, "2024-01-02", 1, 1, "120.00")],
    ),
    "2024-01-03": day_rows(
        # Two changes of Ann in one batch (the last wins) and Bob's city from null.
        [customer(1, "Houston", "TX"), customer(1, "Denver", "CO"), customer(2, "Fresno", "CA")],
        [],
        [sale(4, 1, "2024-01-03", 2, 1, "20.00"), sale(5, 2, "2024-01-03", 1, 1, "120.00")],
    ),
    "2024-01-04": day_rows(
        [customer(3, "Miami", "FL", reg="2024-01-04")],
        [],
        [sale(6, 3, "2024-01-04", 2, 1, "20.00")],
    ),
    "2024-01-05": day_rows(
        # Ann returns unchanged; Bob's new email is type 1; the novel returns unchanged.
        [
            customer(1, "Denver", "CO"),
            customer(2, "Fresno", "CA", email="bob.ray@example.com"),
        ],
        [product(2, "Novel", "20.00", "12.00")],
        [sale(7, 1, "2024-01-05", 1, 1, "120.00"), sale(8, 3, "2024-01-05", 1, 50, "120.00")],
    ),
}


def write_days(root: Path, days: list[str]) -> Path:
    for day in days:
        write_batch(root, day, DAYS[day])
    return root


def load(input_dir: Path, data_dir: Path, *extra: str) -> None:
    run_cli("run", "--input", str(input_dir), "--data-dir", str(data_dir), *extra)


@pytest.fixture(scope="module")
def in_order(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The five days loaded in one run, in date order."""
    root = tmp_path_factory.mktemp("scd2")
    write_days(root / "input", list(DAYS))
    load(root / "input", root / "data")
    return root / "data"


def test_versions_open_on_tracked_changes_with_the_business_date(in_order: Path) -> None:
    con = connect(in_order)
    customers = rows(
        con,
        """select customer_id, city, state, email, effective_date::varchar,
            end_date::varchar, is_current
        from warehouse.dim_customers order by customer_id, effective_date""",
    )
    products = rows(
        con,
        """select product_id, product_name, price, cost, price_range,
            effective_date::varchar, end_date::varchar, is_current
        from warehouse.dim_products order by product_id, effective_date""",
    )
    con.close()
    assert customers == [
        # Ann's first version reaches back to her registration; Houston lasted no day.
        ("CUST0001", "Austin", "TX", "ann@example.com", "2023-06-01", "2024-01-02", False),
        ("CUST0001", "Dallas", "TX", "ann@example.com", "2024-01-02", "2024-01-03", False),
        ("CUST0001", "Denver", "CO", "ann@example.com", "2024-01-03", None, True),
        # Null to a value is a change; the new email is type 1 (every version shows it).
        ("CUST0002", None, "CA", "bob.ray@example.com", "2024-01-01", "2024-01-03", False),
        ("CUST0002", "Fresno", "CA", "bob.ray@example.com", "2024-01-03", None, True),
        ("CUST0003", "Miami", "FL", "cy@example.com", "2024-01-04", None, True),
    ]
    assert products == [
        ("PROD0001", "Widget Pro", Decimal("100.00"), Decimal("60.00"), "Mid-range",
         "2024-01-01", "2024-01-02", False),
        ("PROD0001", "Widget Pro", Decimal("120.00"), Decimal("70.00"), "Mid-range",
         "2024-01-02", None, True),
        ("PROD0002", "Novel", Decimal("20.00"), Decimal("12.00"), "Budget",
         "2024-01-01", None, True),
    ]  # fmt: skip


def test_facts_point_at_the_versions_valid_on_their_date(in_order: Path) -> None:
    con = connect(in_order)
    by_city = dict(
        rows(
            con,
            """select coalesce(c.city, '(none)'), sum(f.line_total)
            from warehouse.fact_sales f join warehouse.dim_customers c using (customer_key)
            group by 1""",
        )
    )
    profit = dict(
        rows(
            con,
            "select transaction_id, profit from warehouse.fact_sales",
        )
    )
    con.close()
    # Revenue by the city the customer lived in when buying, not where they live now.
    assert by_city == {
        "Austin": Decimal("100.00"),
        "Dallas": Decimal("120.00"),
        "Denver": Decimal("140.00"),
        "(none)": Decimal("40.00"),
        "Fresno": Decimal("120.00"),
        "Miami": Decimal("6020.00"),
    }
    # Profit with the cost of the product version valid on the day of the sale.
    assert profit == {
        "TXN00001": Decimal("40.00"),
        "TXN00002": Decimal("16.00"),
        "TXN00003": Decimal("50.00"),
        "TXN00004": Decimal("8.00"),
        "TXN00005": Decimal("50.00"),
        "TXN00006": Decimal("8.00"),
        "TXN00007": Decimal("50.00"),
        "TXN00008": Decimal("2500.00"),
    }


def test_invariants_hold(in_order: Path) -> None:
    assert_invariants(in_order)


def test_segments_follow_the_documented_rule(in_order: Path) -> None:
    con = connect(in_order)
    segments = rows(
        con,
        "select distinct customer_id, customer_segment from warehouse.dim_customers order by 1",
    )
    metrics = rows(
        con,
        """select c.customer_id, a.total_transactions, a.total_spent, a.avg_order_value,
            a.last_purchase_date::varchar
        from warehouse.agg_customer_metrics a join warehouse.dim_customers c using (customer_key)
        order by 1""",
    )
    con.close()
    # VIP from 5,000 spent; Regular from 2 transactions; else New. One value per customer.
    assert segments == [("CUST0001", "Regular"), ("CUST0002", "Regular"), ("CUST0003", "VIP")]
    assert metrics == [
        ("CUST0001", 4, Decimal("360.00"), Decimal("90.00"), "2024-01-05"),
        ("CUST0002", 2, Decimal("160.00"), Decimal("80.00"), "2024-01-03"),
        ("CUST0003", 2, Decimal("6020.00"), Decimal("3010.00"), "2024-01-05"),
    ]


def test_rerun_changes_nothing_and_rebuild_gives_the_same_warehouse(
    in_order: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(in_order, data)
    before = snapshot(data)
    input_dir = in_order.parent / "input"
    load(input_dir, data)
    assert snapshot(data) == before
    con = connect(data)
    assert rows(con, "select count(*) from ops.processed_batches")[0][0] == len(DAYS)
    con.close()
    load(input_dir, data, "--rebuild")
    assert snapshot(data) == before


def test_one_day_at_a_time_equals_all_at_once(in_order: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    for day in DAYS:
        write_days(tmp_path / "input", [day])
        load(tmp_path / "input", data)
    assert snapshot(data) == snapshot(in_order)
    assert_invariants(data)


@pytest.mark.parametrize("late", ["2024-01-03", "2024-01-02"])
def test_a_late_batch_is_loaded_as_if_it_had_come_in_order(
    in_order: Path, tmp_path: Path, late: str
) -> None:
    """The days without `late`, then `late` in a later run: versions are split or merged,
    and facts already loaded are re-pointed at the versions now valid on their date (with
    the profit of their new product version: day 2 raises the widget's cost)."""
    data = tmp_path / "data"
    write_days(tmp_path / "input", [d for d in DAYS if d != late])
    load(tmp_path / "input", data)
    assert_invariants(data)
    early = snapshot(data)
    write_days(tmp_path / "input", [late])
    load(tmp_path / "input", data)
    assert_invariants(data)
    assert early != snapshot(in_order)
    assert snapshot(data) == snapshot(in_order)


def test_the_checks_catch_a_broken_history(in_order: Path, tmp_path: Path) -> None:
    """Each invariant check fails on a warehouse with that defect injected."""
    defects = {
        "dim_customers: keys without exactly one current row": (
            "update warehouse.dim_customers set is_current = true where customer_id = 'CUST0001'"
        ),
        "dim_customers: overlaps or gaps between versions": (
            "update warehouse.dim_customers set end_date = date '2024-01-02' + 1 "
            "where customer_id = 'CUST0001' and effective_date = date '2023-06-01'"
        ),
        "fact_sales: date outside its dim_customers version": (
            "update warehouse.fact_sales set customer_key = (select customer_key from "
            "warehouse.dim_customers where is_current and customer_id = 'CUST0001') "
            "where transaction_id = 'TXN00001'"
        ),
        "fact_sales: profit not with its product version's cost": (
            "update warehouse.fact_sales set profit = profit + 1 where transaction_id = 'TXN00001'"
        ),
    }
    for number, (name, defect) in enumerate(defects.items()):
        data = tmp_path / f"defect{number}"
        shutil.copytree(in_order, data)
        con = duckdb.connect(str(data / "cartwheel.duckdb"))
        con.execute(defect)
        violations = invariant_violations(con)
        con.close()
        assert violations[name] > 0, name


def test_payment_method_keys_do_not_depend_on_the_methods_seen(in_order: Path) -> None:
    """Only UPI was used; a method first used later must not renumber UPI's facts."""
    con = connect(in_order)
    methods = rows(
        con,
        "select payment_method_key, payment_method_name from warehouse.dim_payment_method "
        "order by 1",
    )
    used = rows(con, "select distinct payment_method_key from warehouse.fact_sales")
    con.close()
    assert methods == [
        (1, "Credit Card"),
        (2, "Debit Card"),
        (3, "UPI"),
        (4, "Cash on Delivery"),
        (5, "Net Banking"),
    ]
    assert used == [(3,)]
