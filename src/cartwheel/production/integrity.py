"""Keys unique, no orphans: the production rules an engine does not declare, proven
set-based in one query (DuckDB, where per-row index maintenance is the cost of a bulk
load; PostgreSQL declares them as constraints, see keys.sql).

Over whole tables, or — when production is known to have held every rule before this
merge (the engine's `state_proven`) — over the keys the merge touched only: a duplicate
or an orphan the merge made must involve one of them, since production rows are never
deleted. Each merge then costs in proportion to its batch, not to the history.
"""

from __future__ import annotations

from cartwheel.contract import PRIMARY_KEYS
from cartwheel.engines import Engine


class IntegrityError(Exception):
    """Production breaks a key or reference rule; the merge is rolled back."""


def touched(entity: str) -> str:
    """The temporary table of the keys of `entity` the merge brought in."""
    return f"touched_{entity}"


def _scope(entity: str, scoped: bool, alias: str = "") -> str:
    key = PRIMARY_KEYS[entity]
    column = f"{alias}.{key}" if alias else key
    return f" where {column} in (select {key} from {touched(entity)})" if scoped else ""


def _duplicates(table: str, key: str, entity: str, scoped: bool) -> str:
    return (
        f"select count(*) from (select {key} from production.{table}"
        f"{_scope(entity, scoped)} group by {key} having count(*) > 1) as duplicated"
    )


def _orphans(child: str, column: str, parent: str, scoped: bool) -> str:
    scope = _scope(child, scoped, "child")
    return (
        f"select count(*) from production.{child} as child"
        f"{scope}{' and' if scope else ' where'} not exists "
        f"(select 1 from production.{parent} as parent where parent.{column} = child.{column})"
    )


def rules(scoped: bool = False) -> dict[str, str]:
    """rule -> a query counting the keys or rows that break it (`scoped`: among the
    touched keys, see the module's docstring)."""
    return {
        "customers.customer_id is unique": _duplicates(
            "customers", "customer_id", "customers", scoped
        ),
        "products.product_id is unique": _duplicates("products", "product_id", "products", scoped),
        "transactions.transaction_id is unique": _duplicates(
            "transactions", "transaction_id", "transactions", scoped
        ),
        "transaction_items.item_id is unique": _duplicates(
            "transaction_items", "item_id", "transaction_items", scoped
        ),
        "customer_history (customer_id, business_date) is unique": _duplicates(
            "customer_history", "customer_id, business_date", "customers", scoped
        ),
        "product_history (product_id, business_date) is unique": _duplicates(
            "product_history", "product_id, business_date", "products", scoped
        ),
        "transactions.customer_id references customers": _orphans(
            "transactions", "customer_id", "customers", scoped
        ),
        "transaction_items.transaction_id references transactions": _orphans(
            "transaction_items", "transaction_id", "transactions", scoped
        ),
        "transaction_items.product_id references products": _orphans(
            "transaction_items", "product_id", "products", scoped
        ),
    }


RULES = rules()


def violations(engine: Engine, scoped: bool = False) -> dict[str, int]:
    """Every rule production breaks, with the number of keys or rows breaking it."""
    checks = rules(scoped)
    union = " union all ".join(
        f"select {number} as rule_number, ({sql}) as broken"
        for number, sql in enumerate(checks.values())
    )
    names = list(checks)
    return {names[number]: int(broken) for number, broken in engine.query(union) if broken}


def verify(engine: Engine, scoped: bool = False) -> None:
    """Raise IntegrityError naming every broken rule (the caller's transaction rolls back)."""
    broken = violations(engine, scoped)
    if broken:
        raise IntegrityError(
            "production integrity: "
            + "; ".join(f"{rule}: {count:,} violations" for rule, count in broken.items())
        )
