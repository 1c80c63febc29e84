"""Keys unique, no orphans: the production rules an engine does not declare, proven
set-based over whole tables in one query (DuckDB, where per-row index maintenance is the
cost of a bulk load; PostgreSQL declares them as constraints, see keys.sql)."""

from __future__ import annotations

from cartwheel.engines import Engine


class IntegrityError(Exception):
    """Production breaks a key or reference rule; the merge is rolled back."""


def _duplicates(table: str, key: str) -> str:
    return (
        f"select count(*) from (select {key} from production.{table} "
        f"group by {key} having count(*) > 1) as duplicated"
    )


def _orphans(child: str, column: str, parent: str) -> str:
    return (
        f"select count(*) from production.{child} as child where not exists "
        f"(select 1 from production.{parent} as parent where parent.{column} = child.{column})"
    )


# rule -> a query counting the keys or rows that break it
RULES: dict[str, str] = {
    "customers.customer_id is unique": _duplicates("customers", "customer_id"),
    "products.product_id is unique": _duplicates("products", "product_id"),
    "transactions.transaction_id is unique": _duplicates("transactions", "transaction_id"),
    "transaction_items.item_id is unique": _duplicates("transaction_items", "item_id"),
    "customer_history (customer_id, business_date) is unique": _duplicates(
        "customer_history", "customer_id, business_date"
    ),
    "product_history (product_id, business_date) is unique": _duplicates(
        "product_history", "product_id, business_date"
    ),
    "transactions.customer_id references customers": _orphans(
        "transactions", "customer_id", "customers"
    ),
    "transaction_items.transaction_id references transactions": _orphans(
        "transaction_items", "transaction_id", "transactions"
    ),
    "transaction_items.product_id references products": _orphans(
        "transaction_items", "product_id", "products"
    ),
}


def violations(engine: Engine) -> dict[str, int]:
    """Every rule production breaks, with the number of keys or rows breaking it."""
    union = " union all ".join(
        f"select {number} as rule_number, ({sql}) as broken"
        for number, sql in enumerate(RULES.values())
    )
    rules = list(RULES)
    return {rules[number]: int(broken) for number, broken in engine.query(union) if broken}


def verify(engine: Engine) -> None:
    """Raise IntegrityError naming every broken rule (the caller's transaction rolls back)."""
    broken = violations(engine)
    if broken:
        raise IntegrityError(
            "production integrity: "
            + "; ".join(f"{rule}: {count:,} violations" for rule, count in broken.items())
        )
