"""The raw data contract: entity names and their columns, in order."""

from __future__ import annotations

RAW_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": (
        "customer_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "registration_date",
        "city",
        "state",
        "country",
        "age_group",
    ),
    "products": (
        "product_id",
        "product_name",
        "category",
        "sub_category",
        "price",
        "cost",
        "brand",
        "stock_quantity",
        "supplier_id",
    ),
    "transactions": (
        "transaction_id",
        "customer_id",
        "transaction_date",
        "transaction_time",
        "payment_method",
        "shipping_address",
        "total_amount",
        "shipping_city",
        "shipping_state",
        "shipping_postal_code",
        "shipping_country",
    ),
    "transaction_items": (
        "item_id",
        "transaction_id",
        "product_id",
        "quantity",
        "unit_price",
        "discount_percentage",
        "line_total",
    ),
}
# Columns a raw file may lack without a warning (loaded as NULL): where the order went.
# The generator writes the other columns only.
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "transactions": (
        "shipping_city",
        "shipping_state",
        "shipping_postal_code",
        "shipping_country",
    ),
}
# Columns a file must have: without one, no row of it could be used, so ingest stops
# with one line naming the file and the column. Every other column may be missing from
# a file (loaded as NULL) or blank in a row: last name, email, phone, registration date,
# age group, category, payment method, time, addresses, cost, stock, brand, supplier.
MANDATORY_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id", "first_name"),
    "products": ("product_id", "product_name", "price"),
    "transactions": ("transaction_id", "customer_id", "transaction_date", "total_amount"),
    "transaction_items": (
        "item_id",
        "transaction_id",
        "product_id",
        "quantity",
        "unit_price",
        "discount_percentage",
        "line_total",
    ),
}
ENTITIES: tuple[str, ...] = tuple(RAW_COLUMNS)


def core_columns(entity: str) -> tuple[str, ...]:
    """The entity's columns without the optional ones (what the generator writes)."""
    optional = OPTIONAL_COLUMNS.get(entity, ())
    return tuple(column for column in RAW_COLUMNS[entity] if column not in optional)


PRIMARY_KEYS: dict[str, str] = {
    "customers": "customer_id",
    "products": "product_id",
    "transactions": "transaction_id",
    "transaction_items": "item_id",
}
LINEAGE_COLUMNS: tuple[str, ...] = ("loaded_at", "batch_id", "source_file", "source_line")

# Keys of the warehouse tables, for engines that have indexes: the surrogate
# (or natural) primary key, then the indexed columns — each foreign key of fact_sales and
# each dimension's business key.
WAREHOUSE_KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "warehouse.dim_date": ("date_key", ("full_date",)),
    "warehouse.dim_customers": ("customer_key", ("customer_id",)),
    "warehouse.dim_products": ("product_key", ("product_id",)),
    "warehouse.dim_payment_method": ("payment_method_key", ("payment_method_name",)),
    "warehouse.fact_sales": (
        "sales_key",
        ("date_key", "customer_key", "product_key", "payment_method_key", "transaction_id"),
    ),
    "warehouse.agg_daily_sales": ("date_key", ()),
    "warehouse.agg_product_performance": ("product_key", ()),
    "warehouse.agg_customer_metrics": ("customer_key", ()),
}
