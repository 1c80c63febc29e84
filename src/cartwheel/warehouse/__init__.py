"""Warehouse: the star schema (dimensions with SCD2 columns, fact_sales, aggregates)."""

from cartwheel.warehouse.batch_load import build_warehouse, fill_missing_kept_sums

__all__ = ["build_warehouse", "fill_missing_kept_sums"]
