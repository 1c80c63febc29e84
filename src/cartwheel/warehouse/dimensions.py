"""SCD2 dimensions kept incrementally from the production history tables.

For the keys a batch touched, the whole version chain is rebuilt from
`production.<entity>_history` (a few rows per key) and swapped in; every other key's
rows are left alone, so a batch costs in proportion to the keys it changes.

Rules (documented in docs/warehouse.md):
- A version opens when a tracked attribute differs from the previous history row of the
  key (null-safe: a change from null to a value counts); its `effective_date` is that
  row's business date and it stays valid until the next version's `effective_date`
  (`end_date`, exclusive; null while current). Ranges of a key therefore never overlap
  and never leave gaps.
- Untracked attributes are type 1: every version shows the latest value.
- Several rows of one key in one batch collapse to the batch's last row (one business
  date cannot hold two versions); a key absent from a batch is unchanged (batches are
  deltas), so a key that disappears and returns just continues its chain.
- The first version of a key is valid from the earliest date the key is needed: its
  business date, its registration date (customers), or an earlier sale that arrived late.
- Surrogate keys are stable: a version that keeps its effective date (or stays the
  first version) keeps its key; facts of removed versions are re-pointed (facts.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from cartwheel.engines import Engine


@dataclass(frozen=True)
class Dimension:
    table: str  # warehouse table
    key: str  # surrogate key column
    business_key: str
    history: str  # production history table
    tracked: tuple[str, ...]  # history columns that open a new version
    # dimension column -> expression over the latest history row (type 1)
    latest: dict[str, str]
    # dimension column -> expression over the version's first history row (type 2)
    versioned: dict[str, str]
    columns: tuple[str, ...]  # dimension columns in spec order
    first_floor: str | None = None  # latest-row expression the first version reaches back to
    carried: dict[str, str] | None = None  # columns kept from the old rows (or a default)

    @property
    def short(self) -> str:
        return self.table.split(".")[1]


CUSTOMERS = Dimension(
    table="warehouse.dim_customers",
    key="customer_key",
    business_key="customer_id",
    history="production.customer_history",
    # Where a customer lives and their age group: revenue by region or age must follow
    # the customer's situation at the time of the sale.
    tracked=("city", "state", "country", "age_group"),
    latest={
        "full_name": "concat_ws(' ', first_name, last_name)",
        "email": "email",
        "registration_date": "registration_date",
    },
    versioned={"city": "city", "state": "state", "country": "country", "age_group": "age_group"},
    columns=(
        "customer_key",
        "customer_id",
        "full_name",
        "email",
        "city",
        "state",
        "country",
        "age_group",
        "customer_segment",
        "registration_date",
        "effective_date",
        "end_date",
        "is_current",
    ),
    first_floor="registration_date",
    carried={"customer_segment": "'New'"},
)

PRODUCTS = Dimension(
    table="warehouse.dim_products",
    key="product_key",
    business_key="product_id",
    history="production.product_history",
    # Price and cost (profit must use the cost valid at the sale) and the catalogue place.
    tracked=("category", "sub_category", "price", "cost"),
    latest={"product_name": "product_name", "brand": "brand"},
    versioned={
        "category": "category",
        "sub_category": "sub_category",
        "price": "price",
        "cost": "cost",
        "price_range": "price_category",
    },
    columns=(
        "product_key",
        "product_id",
        "product_name",
        "category",
        "sub_category",
        "brand",
        "price",
        "cost",
        "price_range",
        "effective_date",
        "end_date",
        "is_current",
    ),
)

DIMENSIONS = (CUSTOMERS, PRODUCTS)


def _touched_sql(dim: Dimension) -> str:
    k = dim.business_key
    return (
        f"create temporary table wh_{dim.short}_ids as "
        f"select distinct {k} from {dim.history} "
        f"where batch_id in (select batch_id from ops.run_batches)"
    )


def _old_sql(dim: Dimension) -> str:
    """The rows of the touched keys before this batch (keys, ranges, carried columns)."""
    k = dim.business_key
    carried = "".join(f", {c}" for c in dim.carried or {})
    return f"""
        create temporary table wh_{dim.short}_old as
        select
            {dim.key},
            {k},
            effective_date,
            row_number() over (partition by {k} order by effective_date) = 1 as is_first
            {carried}
        from {dim.table}
        where {k} in (select {k} from wh_{dim.short}_ids)
    """


def _chain_sql(dim: Dimension) -> str:
    """The new version chain of every touched key, from its full history."""
    k = dim.business_key
    order = f"over (partition by {k} order by business_date)"
    previous = ",\n".join(f"lag({c}) {order} as previous_{c}" for c in dim.tracked)
    opens = " or ".join(f"{c} is distinct from previous_{c}" for c in dim.tracked)
    versioned = ", ".join(f"{expr} as {col}" for col, expr in dim.versioned.items())
    latest = ", ".join(f"latest.{col}" for col in dim.latest)
    latest_exprs = ", ".join(f"{expr} as {col}" for col, expr in dim.latest.items())
    floor = "latest.floor_date," if dim.first_floor else ""
    floor_expr = f", {dim.first_floor} as floor_date" if dim.first_floor else ""
    return f"""
        create temporary table wh_{dim.short}_chain as
        with history as (
            select * from {dim.history}
            where {k} in (select {k} from wh_{dim.short}_ids)
        ),

        compared as (
            select
                history.*,
                {previous},
                row_number() {order} as position
            from history
        ),

        starts as (
            -- A version opens at the first row and wherever a tracked attribute changes.
            select * from compared where position = 1 or {opens}
        ),

        versions as (
            select
                {k},
                business_date as effective_date,
                lead(business_date) {order} as end_date,
                row_number() {order} as version_number,
                -- The batch that opened it: new keys are numbered batch by batch.
                batch_id as opened_in,
                {versioned}
            from starts
        ),

        latest as (
            select {k}, {latest_exprs}{floor_expr}
            from (
                select
                    history.*,
                    row_number() over (partition by {k} order by business_date desc) as recency
                from history
            ) as ranked
            where recency = 1
        ),

        old_first as (
            select {k}, min(effective_date) as effective_date
            from wh_{dim.short}_old
            group by {k}
        )

        select
            versions.{k},
            case
                when versions.version_number = 1
                    then least(
                        versions.effective_date,
                        {floor}
                        coalesce(old_first.effective_date, versions.effective_date)
                    )
                else versions.effective_date
            end as effective_date,
            versions.end_date,
            versions.version_number,
            versions.opened_in,
            {", ".join(f"versions.{c}" for c in dim.versioned)},
            {latest}
        from versions
        inner join latest on versions.{k} = latest.{k}
        left join old_first on versions.{k} = old_first.{k}
    """


def _keyed_sql(dim: Dimension, grouped: bool) -> str:
    """The new chain with surrogate keys: kept where a version survives, new otherwise.
    Over several batches (`grouped`), new keys go batch by batch, as one pass each
    would have given them."""
    k = dim.business_key
    by_batch = "matched.opened_in, " if grouped else ""
    carried = "".join(
        f", coalesce((select max(old.{c}) from wh_{dim.short}_old as old "
        f"where old.{k} = matched.{k}), {default}) as {c}"
        for c, default in (dim.carried or {}).items()
    )
    return f"""
        create temporary table wh_{dim.short}_keyed as
        with chain as (
            select * from wh_{dim.short}_chain
        ),

        old as (
            select * from wh_{dim.short}_old
        ),

        same_start as (
            -- A version that starts on the same day is the same version.
            select chain.{k}, chain.effective_date, old.{dim.key}
            from chain
            inner join old on chain.{k} = old.{k} and chain.effective_date = old.effective_date
        ),

        first_moved as (
            -- The first version stays the first version when its start moves earlier.
            select chain.{k}, chain.effective_date, old.{dim.key}
            from chain
            inner join old on chain.{k} = old.{k} and chain.version_number = 1 and old.is_first
            where not exists (
                select 1 from same_start
                where same_start.{k} = chain.{k}
                    and (same_start.effective_date = chain.effective_date
                        or same_start.{dim.key} = old.{dim.key})
            )
        ),

        kept as (
            select * from same_start
            union all
            select * from first_moved
        ),

        matched as (
            select chain.*, kept.{dim.key} as kept_key
            from chain
            left join kept
                on chain.{k} = kept.{k} and chain.effective_date = kept.effective_date
        )

        select
            matched.*,
            coalesce(
                kept_key,
                (select coalesce(max({dim.key}), 0) from {dim.table})
                + row_number() over (
                    partition by kept_key is null
                    order by {by_batch}matched.{k}, matched.effective_date
                )
            ) as {dim.key}
            {carried}
        from matched
    """


def _replace_sql(dim: Dimension) -> list[str]:
    k = dim.business_key
    names = ", ".join(dim.columns)
    values = ", ".join("end_date is null" if c == "is_current" else c for c in dim.columns)
    return [
        f"delete from {dim.table} where {k} in (select {k} from wh_{dim.short}_ids)",
        f"insert into {dim.table} ({names}) select {values} from wh_{dim.short}_keyed",
    ]


def update_dimension(engine: Engine, dim: Dimension, grouped: bool = False) -> None:
    """Rebuild the version chains of the keys the batches in `ops.run_batches` touched
    (`grouped`: several consecutive batches, see _keyed_sql).

    Leaves `wh_<dim>_ids` (touched keys) and `wh_<dim>_old` (their rows before) for the
    fact re-pointing and aggregates that follow.
    """
    for suffix in ("ids", "old", "chain", "keyed"):
        engine.execute(f"drop table if exists wh_{dim.short}_{suffix}")
    for sql in (_touched_sql(dim), _old_sql(dim), _chain_sql(dim), _keyed_sql(dim, grouped)):
        engine.execute(sql)
    for sql in _replace_sql(dim):
        engine.execute(sql)


def backdate_first_versions(engine: Engine, dim: Dimension, first_sales: str) -> None:
    """Stretch a key's first version back to an earlier sale (a batch that arrived late
    with sales before the key's first known version); `first_sales` has the business key
    and `first_date` per key."""
    k = dim.business_key
    engine.execute(f"""
        update {dim.table} as dim set effective_date = early.first_date
        from {first_sales} as early
        where dim.{k} = early.{k}
            and early.first_date < dim.effective_date
            and dim.effective_date = (
                select min(other.effective_date) from {dim.table} as other
                where other.{k} = dim.{k}
            )
        """)
