"""Analytics and dashboard read the totals the warehouse keeps per day, month and customer:
after daily batches their files equal those of a warehouse whose totals were recomputed
from every sale, byte for byte, and the dashboard's data equals that of every order line."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from cartwheel.analytics import QUERIES, run_analytics
from cartwheel.dashboard import data as dashboard_data
from cartwheel.dashboard.data import warehouse_data
from cartwheel.engines.duckdb import DuckDBEngine
from cartwheel.generate.core import generate_batches
from cartwheel.warehouse.aggregates import KEPT_SUMS
from tests.conftest import run_cli
from tests.test_scd2 import day_rows, product, sale
from tests.test_scd2_checks import write_batch

# Every fact with the versions and names its sums group on.
NAMED_LINES = """from warehouse.fact_sales as facts
        inner join warehouse.dim_customers as versions
            on facts.customer_key = versions.customer_key
        inner join warehouse.dim_products as products on facts.product_key = products.product_key
        inner join warehouse.dim_date as dates on facts.date_key = dates.date_key
        left join warehouse.dim_payment_method as methods
            on facts.payment_method_key = methods.payment_method_key"""
CATEGORY = "coalesce(products.category, 'Unknown') as category_name"


def month_sums(*keys: str) -> str:
    """Revenue, profit and units per month and `keys` (expressions, in the table's order)."""
    return f"""
        select dates.year * 100 + dates.month as month_key, {", ".join(keys)},
            sum(facts.line_total) as revenue,
            sum(facts.profit) as profit,
            sum(facts.quantity) as units
        {NAMED_LINES}
        group by 1, 2, 3"""


# The totals the queries read, recomputed from fact_sales (the reference).
RECOMPUTED = {
    "warehouse.agg_customer_metrics": """
        select
            current_versions.customer_key,
            count(distinct facts.transaction_id) as total_transactions,
            sum(facts.line_total) as total_spent,
            round(sum(facts.line_total) / count(distinct facts.transaction_id), 2)
                as avg_order_value,
            max(dates.full_date) as last_purchase_date
        from warehouse.fact_sales as facts
        inner join warehouse.dim_customers as versions
            on facts.customer_key = versions.customer_key
        inner join warehouse.dim_customers as current_versions
            on versions.customer_id = current_versions.customer_id
            and current_versions.is_current
        inner join warehouse.dim_date as dates on facts.date_key = dates.date_key
        group by current_versions.customer_key""",
    "warehouse.agg_daily_sales": """
        select
            facts.date_key,
            count(distinct facts.transaction_id) as total_transactions,
            sum(facts.line_total) as total_revenue,
            sum(facts.profit) as total_profit,
            count(distinct versions.customer_id) as unique_customers
        from warehouse.fact_sales as facts
        inner join warehouse.dim_customers as versions
            on facts.customer_key = versions.customer_key
        group by facts.date_key""",
    "ops.monthly_sales": """
        select
            dates.year,
            dates.month,
            sum(facts.line_total) as revenue,
            count(distinct facts.transaction_id) as transactions,
            count(distinct versions.customer_id) as unique_customers
        from warehouse.fact_sales as facts
        inner join warehouse.dim_customers as versions
            on facts.customer_key = versions.customer_key
        inner join warehouse.dim_date as dates on facts.date_key = dates.date_key
        group by dates.year, dates.month""",
    "ops.dashboard_order_cells": """
        select
            dates.year * 100 + dates.month as month_key,
            coalesce(facts.shipping_state, versions.state, 'Unknown') as state_name,
            methods.payment_method_name,
            versions.customer_segment,
            count(distinct facts.transaction_id) as orders,
            sum(facts.line_total) as revenue
        from warehouse.fact_sales as facts
        inner join warehouse.dim_customers as versions
            on facts.customer_key = versions.customer_key
        inner join warehouse.dim_date as dates on facts.date_key = dates.date_key
        left join warehouse.dim_payment_method as methods
            on facts.payment_method_key = methods.payment_method_key
        group by 1, 2, 3, 4""",
    "ops.dashboard_sales_cells": f"""
        select
            dates.year * 100 + dates.month as month_key,
            {CATEGORY},
            coalesce(facts.shipping_state, versions.state, 'Unknown') as state_name,
            coalesce(methods.payment_method_name, 'Unknown') as payment_method_name,
            sum(facts.line_total) as revenue,
            sum(facts.profit) as profit,
            sum(case when facts.profit is not null then facts.line_total end)
                as costed_revenue,
            sum(facts.quantity) as units,
            count(*) as order_lines,
            count(distinct facts.transaction_id) as orders
        {NAMED_LINES}
        group by 1, 2, 3, 4""",
    "ops.dashboard_category_days": f"""
        select
            dates.year * 100 + dates.month as month_key,
            facts.date_key,
            {CATEGORY},
            sum(facts.line_total) as revenue,
            count(distinct facts.transaction_id) as orders
        {NAMED_LINES}
        group by 1, 2, 3""",
    "ops.dashboard_sub_category_months": month_sums(
        CATEGORY, "coalesce(products.sub_category, 'Unknown') as sub_category"
    ),
    "ops.dashboard_product_months": month_sums("products.product_id", CATEGORY),
    "ops.product_version_sales": """
        select
            facts.product_key,
            products.product_id,
            count(*) as order_lines,
            count(facts.profit) as costed_lines,
            sum(facts.unit_price) as unit_price_sum,
            sum(facts.quantity) as units,
            sum(facts.line_total) as revenue,
            sum(facts.profit) as profit
        from warehouse.fact_sales as facts
        inner join warehouse.dim_products as products on facts.product_key = products.product_key
        group by facts.product_key, products.product_id""",
    "ops.customer_state_sales": """
        select
            facts.customer_key,
            versions.customer_id,
            facts.shipping_state,
            sum(facts.line_total) as revenue
        from warehouse.fact_sales as facts
        inner join warehouse.dim_customers as versions
            on facts.customer_key = versions.customer_key
        group by facts.customer_key, versions.customer_id, facts.shipping_state""",
    "ops.discount_sales": """
        select
            items.discount_percentage,
            count(*) as order_lines,
            sum(facts.quantity) as units,
            sum(facts.line_total) as revenue
        from warehouse.fact_sales as facts
        inner join production.transaction_items as items on facts.item_id = items.item_id
        group by items.discount_percentage""",
    "ops.daily_category_sales": """
        select facts.date_key, products.category, sum(facts.line_total) as revenue
        from warehouse.fact_sales as facts
        inner join warehouse.dim_products as products on facts.product_key = products.product_key
        group by facts.date_key, products.category""",
}


def recomputed_copy(data_dir: Path, target: Path) -> Path:
    """A copy of the published warehouse with its totals recomputed from every sale."""
    shutil.copy(data_dir / "cartwheel.duckdb", target)
    con = duckdb.connect(str(target))
    for table, sql in RECOMPUTED.items():
        con.execute(f"create or replace table {table} as {sql}")
    con.close()
    return target


def differences(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Rows in the kept table or in its recomputation but not in both."""
    kept = f"select * from {table}"
    fresh = f"({RECOMPUTED[table]})"
    return con.execute(
        f"select count(*) from (({kept} except {fresh}) union all ({fresh} except {kept}))"
    ).fetchall()[0][0]


def analytics_files(engine: DuckDBEngine, out: Path) -> dict[str, bytes]:
    run_analytics(engine, out)
    return {name: (out / f"{name}.csv").read_bytes() for name in QUERIES}


def from_lines(engine: DuckDBEngine, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The dashboard's data from every order line (the reference for the monthly sums)."""
    with monkeypatch.context() as patch:
        patch.setattr(dashboard_data, "sums_apply", lambda engine: False)
        return warehouse_data(engine).data


def assert_same_as_recomputed(data_dir: Path, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    con = duckdb.connect(str(data_dir / "cartwheel.duckdb"), read_only=True)
    assert {table: differences(con, table) for table in RECOMPUTED} == dict.fromkeys(RECOMPUTED, 0)
    con.close()
    kept = DuckDBEngine(str(data_dir / "cartwheel.duckdb"), read_only=True)
    fresh = DuckDBEngine(str(recomputed_copy(data_dir, work / "recomputed.duckdb")))
    try:
        assert analytics_files(kept, work / "kept") == analytics_files(fresh, work / "fresh")
        assert dashboard_data.sums_apply(kept)
        assert warehouse_data(kept).data == from_lines(kept, monkeypatch)
    finally:
        kept.close()
        fresh.close()


# A transaction's facts come from one batch (the totals count its orders per batch): a
# second item of Siobhan O'Donnell's first order, sent in the next day's batch, waits in
# quarantine. José María buys again on the second day: his segment moves from New to
# Regular (in the month being recomputed).
SIOBHAN = ("CUST0001", "Siobhan", "O'Donnell", "siobhan@example.com", "5550001111",
           "2023-06-01", "Boston", "MA", "USA", "26-35")  # fmt: skip
JOSE = ("CUST0002", "José María", "García", "jose@example.com", "5550002111",
        "2024-01-01", "El Paso", "TX", "USA", "36-45")  # fmt: skip
ZHANG_WEI = ("CUST0003", "伟", "张", "zhang.wei@example.com", "5550003111",
             "2024-01-02", "San Jose", "CA", "USA", "26-35")  # fmt: skip
# Zhang Wei's order has no payment method in the data.
UNPAID = (
    ("TXN00005", "CUST0003", "2024-01-02", "10:00:00", "", "1 Main St", "20.00"),
    ("ITEM00005", "TXN00005", "PROD0002", 1, "20.00", 0, "20.00"),
)
LAMP_ITEM = ("ITEM00009", "TXN00001", "PROD0003", 1, "35.00", 0, "35.00")
DAYS = {
    "2024-01-01": day_rows(
        [SIOBHAN, JOSE],
        [product(1, "Widget", "100.00", "60.00"), product(2, "Novel", "20.00", "12.00")],
        [sale(1, 1, "2024-01-01", 1, 1, "100.00"), sale(2, 2, "2024-01-01", 2, 2, "20.00")],
    ),
    "2024-01-02": day_rows(
        [ZHANG_WEI],
        [("PROD0003", "Lamp", "Home", "Lighting", "35.00", "20.00", "Acme", "10", "SUP001")],
        [sale(3, 2, "2024-01-02", 1, 1, "100.00"), UNPAID],
    ),
    # Siobhan's second order, in the next month: her January orders move to Regular.
    "2024-02-01": day_rows([], [], [sale(4, 1, "2024-02-01", 2, 1, "20.00")]),
}
DAYS["2024-01-02"]["transaction_items"].append(LAMP_ITEM)


@pytest.fixture(scope="module")
def daily(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three days, one run each, into one data folder."""
    root = tmp_path_factory.mktemp("daily")
    for day, rows in DAYS.items():
        run_cli("run", "--input", str(write_batch(root / "input", day, rows)),
                "--data-dir", str(root / "data"))  # fmt: skip
        shutil.rmtree(root / "input")
    return root / "data"


def test_a_later_item_of_an_earlier_order_waits_and_the_totals_stay(daily: Path) -> None:
    con = duckdb.connect(str(daily / "cartwheel.duckdb"), read_only=True)
    facts = con.execute(
        "select transaction_id, count(*) from warehouse.fact_sales "
        "group by transaction_id order by transaction_id"
    ).fetchall()
    waiting = con.execute(
        "select entity, reason from ops.quarantine where released_at is null"
    ).fetchall()
    kept = con.execute(
        """select versions.customer_id, metrics.total_transactions, metrics.total_spent::varchar
        from warehouse.agg_customer_metrics as metrics
        inner join warehouse.dim_customers as versions using (customer_key)
        order by versions.customer_id"""
    ).fetchall()
    con.close()
    assert facts == [
        ("TXN00001", 1), ("TXN00002", 1), ("TXN00003", 1), ("TXN00004", 1), ("TXN00005", 1)
    ]  # fmt: skip
    assert waiting == [("transaction_items", "orphan_transaction_id")]
    assert kept == [
        ("CUST0001", 2, "120.0000"), ("CUST0002", 2, "140.0000"), ("CUST0003", 1, "20.0000")
    ]  # fmt: skip
    lifetime = (daily / "analytics" / "query7_customer_lifetime_value.csv").read_text()
    assert lifetime.splitlines()[1:] == [
        "CUST0002,José María García,140.00,2,31,70.00",
        "CUST0001,Siobhan O'Donnell,120.00,2,245,60.00",
        "CUST0003,伟 张,20.00,1,30,20.00",
    ]
    # The order without a payment method is its own row, with an empty name.
    payments = (daily / "analytics" / "query5_payment_distribution.csv").read_text()
    assert payments.splitlines()[1:] == ["UPI,4,260.00,80.00,92.86", ",1,20.00,20.00,7.14"]


def test_an_old_customer_moving_segment_shows_on_the_dashboard(daily: Path) -> None:
    engine = DuckDBEngine(str(daily / "cartwheel.duckdb"), read_only=True)
    try:
        data = warehouse_data(engine).data
    finally:
        engine.close()
    top = data["top_customers"]
    segments = dict(zip(top["customer_id"], top["customer_segment"], strict=True))
    assert segments == {"CUST0001": "Regular", "CUST0002": "Regular", "CUST0003": "New"}
    # Siobhan's January order moved from New to Regular when she bought in February.
    con = duckdb.connect(str(daily / "cartwheel.duckdb"), read_only=True)
    cells = con.execute(
        """select month_key, customer_segment, sum(orders)::integer
        from ops.dashboard_order_cells group by all order by all"""
    ).fetchall()
    con.close()
    assert cells == [(202401, "New", 1), (202401, "Regular", 3), (202402, "Regular", 1)]
    # Every order counts under its customer's segment of today.
    orders = data["orders"]
    segment_names = data["dims"]["segments"]
    regular = sum(
        count
        for count, segment in zip(orders["orders"], orders["customer_segment"], strict=True)
        if segment_names[segment] == "Regular"
    )
    assert regular == 4


def test_daily_batches_give_the_files_of_recomputed_totals(
    daily: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_same_as_recomputed(daily, tmp_path, monkeypatch)


def test_states_and_payment_methods_past_the_caps_add_up_into_other(
    daily: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(dashboard_data.LIMITS, "max_states", 1)
    monkeypatch.setitem(dashboard_data.LIMITS, "max_payment_methods", 1)
    engine = DuckDBEngine(str(daily / "cartwheel.duckdb"), read_only=True)
    try:
        data = warehouse_data(engine).data
        assert data["dims"]["states"] == ["TX", "Other"]
        assert data == from_lines(engine, monkeypatch)
    finally:
        engine.close()


def test_categories_past_the_cap_are_drawn_from_the_order_lines(
    daily: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Orders of categories folded into 'Other' do not add up: the sums do not answer."""
    engine = DuckDBEngine(str(daily / "cartwheel.duckdb"), read_only=True)
    try:
        assert dashboard_data.sums_apply(engine)
        monkeypatch.setitem(dashboard_data.LIMITS, "max_categories", 1)
        assert not dashboard_data.sums_apply(engine)
        sales = warehouse_data(engine).data["sales"]
        assert sum(sales["orders"]) == 5  # one order per transaction: none has two lines
    finally:
        engine.close()


# Negative: one kept total off by a cent (or a count off by one) fails the comparison.
DRIFTS = {
    "customer spend": """update warehouse.agg_customer_metrics set total_spent = total_spent + 0.01
        where customer_key = (select min(customer_key) from warehouse.agg_customer_metrics)""",
    "sales cell": """update ops.dashboard_sales_cells set revenue = revenue + 0.01
        where category_name = 'Books' and month_key = 202402""",
    "month's customers": """update ops.monthly_sales set unique_customers = unique_customers + 1
        where month = 1""",
    "day's orders": """update ops.dashboard_category_days set orders = orders + 1
        where date_key = 20240102 and category_name = 'Electronics'""",
    "product month": """update ops.dashboard_product_months set units = units + 1
        where product_id = 'PROD0002' and month_key = 202402""",
    "sub-category profit": """update ops.dashboard_sub_category_months set profit = profit - 0.01
        where sub_category = 'Phones'""",
    "product version's costed lines": """update ops.product_version_sales
        set costed_lines = costed_lines - 1
        where product_key = (select min(product_key) from ops.product_version_sales)""",
    "product version's unit prices": """update ops.product_version_sales
        set unit_price_sum = unit_price_sum + 0.0001
        where product_key = (select max(product_key) from ops.product_version_sales)""",
    "customer's ship-to state": """update ops.customer_state_sales set shipping_state = 'CA'
        where customer_id = 'CUST0001'""",
    "discount's lines": """update ops.discount_sales set order_lines = order_lines + 1
        where discount_percentage = 0""",
    "day's category revenue": """update ops.daily_category_sales set revenue = revenue + 0.01
        where date_key = 20240102 and category = 'Electronics'""",
}


@pytest.mark.parametrize("drift", DRIFTS)
def test_a_kept_total_that_drifts_from_the_sales_is_caught(
    daily: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, drift: str
) -> None:
    shutil.copytree(daily, tmp_path / "data")
    con = duckdb.connect(str(tmp_path / "data" / "cartwheel.duckdb"))
    assert con.execute(DRIFTS[drift]).fetchall() == [(1,)]  # one row changed
    con.close()
    with pytest.raises(AssertionError):
        assert_same_as_recomputed(tmp_path / "data", tmp_path, monkeypatch)


# A late batch for 15 January, after February's: José María buys again in January (a
# customer the month counts once), and either the Novel costs 15.00 from that day on
# (February's Novel fact moves to the new product version: its profit falls from 8 to 5)
# or Siobhan has moved to New York (her February order moves to the new customer
# version: it ships to NY). Either way February is recomputed and January added to.
LATE_DAY = "2024-01-15"
JOSE_AGAIN = sale(6, 2, LATE_DAY, 1, 1, "100.00")
NOVEL_DEARER = ("PROD0002", "Novel", "Books", "Fiction", "20.00", "15.00", "Acme", "10", "SUP001")
SIOBHAN_MOVED = (*SIOBHAN[:6], "New York", "NY", *SIOBHAN[8:])
LATE_CHANGES = {
    "product cost": (day_rows([], [NOVEL_DEARER], [JOSE_AGAIN]), ("MA", "5.0000")),
    "customer state": (day_rows([SIOBHAN_MOVED], [], [JOSE_AGAIN]), ("NY", "8.0000")),
}


@pytest.mark.parametrize("change", LATE_CHANGES)
def test_a_late_batch_adds_to_its_month_and_recomputes_the_moved_ones(
    daily: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    rows, (state, profit) = LATE_CHANGES[change]
    data = tmp_path / "data"
    shutil.copytree(daily, data)
    run_cli("run", "--input", str(write_batch(tmp_path / "input", LATE_DAY, rows)),
            "--data-dir", str(data))  # fmt: skip
    con = duckdb.connect(str(data / "cartwheel.duckdb"), read_only=True)
    months = con.execute(
        """select year, month, revenue::varchar, transactions, unique_customers
        from ops.monthly_sales order by all"""
    ).fetchall()
    february = con.execute(
        """select category_name, state_name, revenue::varchar, profit::varchar, orders
        from ops.dashboard_sales_cells where month_key = 202402"""
    ).fetchall()
    con.close()
    assert months == [(2024, 1, "360.0000", 5, 3), (2024, 2, "20.0000", 1, 1)]
    assert february == [("Books", state, "20.0000", profit, 1)]
    assert_same_as_recomputed(data, tmp_path, monkeypatch)


def test_generated_days_give_the_files_of_recomputed_totals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six generated days at scale 1 (customer and product versions, facts re-pointed,
    segments changing)."""
    history = tmp_path / "history"
    run_cli("generate", "--scale", "1", "--start", "2024-01-01", "--days", "6",
            "--out", str(history))  # fmt: skip
    run_cli("run", "--input", str(history), "--data-dir", str(tmp_path / "data"))
    assert_same_as_recomputed(tmp_path / "data", tmp_path, monkeypatch)


def test_a_month_of_history_then_a_day_gives_the_files_of_recomputed_totals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """January's generated days as one batch, then February's first day: January's
    sums stay, except the orders of the customers whose segment that day changed."""
    days = tmp_path / "days"
    generate_batches(days, days=32, scale=1, seed=5)
    folders = sorted(path for path in days.iterdir() if path.is_dir())
    january = tmp_path / "batches" / "2024-01-31"
    january.mkdir(parents=True)
    for file in folders[0].glob("*.csv"):
        with (january / file.name).open("w") as merged:
            for index, folder in enumerate(folders[:31]):
                lines = (folder / file.name).read_text().splitlines(keepends=True)
                merged.writelines(lines if index == 0 else lines[1:])
    data = tmp_path / "data"
    run_cli("run", "--input", str(january.parent), "--data-dir", str(data))
    # Customers with one January order (New) that the next day's orders make Regular.
    buyers = """select customer_id from warehouse.dim_customers where is_current
        and customer_segment = 'New'
        and customer_key in (select customer_key from warehouse.agg_customer_metrics)"""
    con = duckdb.connect(str(data / "cartwheel.duckdb"), read_only=True)
    new_in_january = {row[0] for row in con.execute(buyers).fetchall()}
    con.close()
    shutil.copytree(folders[31], january.parent / folders[31].name)
    run_cli("run", "--input", str(january.parent), "--data-dir", str(data))
    con = duckdb.connect(str(data / "cartwheel.duckdb"), read_only=True)
    still_new = {row[0] for row in con.execute(buyers).fetchall()}
    con.close()
    assert len(new_in_january - still_new) > 0
    assert_same_as_recomputed(data, tmp_path, monkeypatch)


@pytest.mark.parametrize("gone", ["dropped", "emptied"])
def test_a_warehouse_without_its_kept_sums_gets_them_from_every_sale(
    daily: Path, tmp_path: Path, gone: str
) -> None:
    """A warehouse an older cartwheel built has no kept sums (ops.*_sales), and a run
    with no new batch runs no warehouse pass: the analytics fill them from every sale,
    and write the files the warehouse had before, byte for byte. Left empty by a pass
    that failed, they are filled the same way (read empty, query 1 would list nothing)."""
    data = tmp_path / "data"
    shutil.copytree(daily, data)
    before = {name: (daily / "analytics" / f"{name}.csv").read_bytes() for name in QUERIES}
    con = duckdb.connect(str(data / "cartwheel.duckdb"))
    for table in KEPT_SUMS:
        con.execute(f"drop table {table}" if gone == "dropped" else f"delete from {table}")
    con.close()
    run_cli("analytics", "--data-dir", str(data))
    after = {name: (data / "analytics" / f"{name}.csv").read_bytes() for name in QUERIES}
    assert after == before
    con = duckdb.connect(str(data / "cartwheel.duckdb"), read_only=True)
    assert {table: differences(con, table) for table in KEPT_SUMS} == dict.fromkeys(KEPT_SUMS, 0)
    con.close()
