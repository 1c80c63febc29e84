"""Warehouse: the star schema (dimensions with SCD2 columns, fact_sales, aggregates)."""

from cartwheel.warehouse.builder import build_warehouse

__all__ = ["build_warehouse"]
