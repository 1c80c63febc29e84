"""The generator's realism targets (issue #3), measured on the written files."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cartwheel.contract import ENTITIES
from cartwheel.generate import Profile, generate

MONEY = {
    "products": ("price", "cost"),
    "transactions": ("total_amount",),
    "transaction_items": ("unit_price", "line_total"),
}


def open_files(folder: Path) -> duckdb.DuckDBPyConnection:
    """Views over the four CSVs, money read as exact decimals."""
    con = duckdb.connect()
    for entity in ENTITIES:
        types = ", ".join(f"'{c}': 'decimal(18,2)'" for c in MONEY.get(entity, ()))
        con.execute(
            f"create view {entity} as select * from "
            f"read_csv('{folder / entity}.csv', types = {{{types}}})"
        )
    return con


def one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchall()[0][0]


def measures(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    return {
        "top_decile_share": one(
            con,
            """with spend as (select customer_id, sum(total_amount) revenue
                    from transactions group by all),
                ranked as (select revenue, row_number() over (order by revenue desc) rn,
                    count(*) over () n from spend)
            select sum(revenue) filter (where rn <= n / 10) / sum(revenue) from ranked""",
        ),
        "weekend_ratio": one(
            con,
            """with daily as (select transaction_date d, sum(total_amount) revenue
                    from transactions group by all)
            select avg(revenue) filter (where isodow(d) >= 6)
                / avg(revenue) filter (where isodow(d) < 6) from daily""",
        ),
        "nov_dec_share": one(
            con,
            """select sum(total_amount) filter (where month(transaction_date) >= 11)
                / sum(total_amount) from transactions""",
        ),
        "electronics_share": one(
            con,
            """select sum(line_total) filter (where category = 'Electronics') / sum(line_total)
            from transaction_items join products using (product_id)""",
        ),
        "largest_category": one(
            con,
            """select category from transaction_items join products using (product_id)
            group by all order by sum(line_total) desc limit 1""",
        ),
        "premium_margin": one(
            con, "select avg((price - cost) / price) from products where price >= 200"
        ),
        "top5_states_share": one(
            con,
            """with by_state as (select state, count(*) orders
                    from transactions join customers using (customer_id) group by all)
            select sum(orders) filter (where rk <= 5) / sum(orders)
            from (select *, row_number() over (order by orders desc) rk from by_state)""",
        ),
        "single_item_baskets": one(
            con,
            """select avg((n = 1)::int) from (select transaction_id, count(*) n
                from transaction_items group by all)""",
        ),
        "max_basket": one(
            con,
            "select max(n) from (select count(*) n from transaction_items group by transaction_id)",
        ),
        "single_quantity": one(con, "select avg((quantity = 1)::int) from transaction_items"),
        "max_quantity": one(con, "select max(quantity) from transaction_items"),
    }


def buckets(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    def values(sql: str) -> set[str]:
        return {row[0] for row in con.execute(sql).fetchall()}

    return {
        "spend": values(
            """select case when s < 1000 then '$0-$1,000' when s < 5000 then '$1,000-$5,000'
                when s < 10000 then '$5,000-$10,000' else '$10,000+' end
            from (select c.customer_id, coalesce(sum(t.total_amount), 0) s
                from customers c left join transactions t using (customer_id) group by all)"""
        ),
        "discount": values(
            """select case when discount_percentage = 0 then '0%'
                when discount_percentage <= 10 then '1-10%'
                when discount_percentage <= 25 then '11-25%'
                when discount_percentage <= 50 then '26-50%' else '50%+' end
            from transaction_items"""
        ),
        "price": values(
            """select case when price < 50 then 'Budget' when price < 200 then 'Mid-range'
                else 'Premium' end from products"""
        ),
        "weekday": values("select dayname(transaction_date) from transactions"),
        "payment": values("select payment_method from transactions"),
        "category": values("select category from products"),
    }


def assert_realistic(m: dict[str, float]) -> None:
    assert 0.30 <= m["top_decile_share"] <= 0.40, m
    assert 1.20 <= m["weekend_ratio"] <= 1.35, m
    assert m["nov_dec_share"] > 2 / 12 + 0.03, m
    assert m["largest_category"] == "Electronics", m
    assert 0.40 <= m["electronics_share"] <= 0.50, m
    assert m["premium_margin"] > 0.25, m
    assert m["top5_states_share"] > 0.5, m
    # Skewed baskets and quantities: most are 1, with a long tail.
    assert m["single_item_baskets"] > 0.5 and m["max_basket"] >= 8, m
    assert m["single_quantity"] > 0.5 and m["max_quantity"] >= 6, m


@pytest.mark.parametrize("seed", [42, 7])
def test_scale_factor_1_is_realistic(tmp_path: Path, seed: int) -> None:
    generate(tmp_path, seed=seed)
    con = open_files(tmp_path)
    assert_realistic(measures(con))
    b = buckets(con)
    assert len(b["spend"]) == 4, b["spend"]
    assert b["discount"] == {"0%", "1-10%", "11-25%", "26-50%", "50%+"}
    assert b["price"] == {"Budget", "Mid-range", "Premium"}
    assert len(b["weekday"]) == 7
    assert b["payment"] == {"Credit Card", "Debit Card", "UPI", "Cash on Delivery", "Net Banking"}
    assert len(b["category"]) == 6


def test_names_places_and_emails_look_real(tmp_path: Path) -> None:
    generate(tmp_path)
    con = open_files(tmp_path)
    # Every city belongs to one state; one country; emails built from the name and id.
    states_per_city = "select count(distinct state) n from customers group by city"
    assert one(con, f"select max(n) from ({states_per_city})") == 1
    assert one(con, "select count(distinct country) from customers") == 1
    email = """select count(*) from customers
        where not contains(email, lower(last_name))
            or not regexp_matches(email, '^[a-z._]+[0-9]+@[a-z]+[.]com$')"""
    assert one(con, email) == 0
    address = """select count(*) from transactions
        where not regexp_matches(shipping_address, '^[0-9]+ [A-Za-z ]+, [A-Za-z ]+, [A-Z]{2}$')"""
    assert one(con, address) == 0


def test_profile_changes_the_shape(tmp_path: Path) -> None:
    """The profile really drives the data: no weekend effect when it is set to 1."""
    generate(tmp_path, profile=Profile.from_mapping({"weekend_factor": 1.0, "daily_noise": 0}))
    ratio = measures(open_files(tmp_path))["weekend_ratio"]
    assert 0.85 < ratio < 1.15


@pytest.mark.slow
def test_realism_holds_at_scale_factor_10(tmp_path: Path) -> None:
    generate(tmp_path, scale=10)
    assert_realistic(measures(open_files(tmp_path)))
