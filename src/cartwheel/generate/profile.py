"""The generator profile: every number that shapes the synthetic shop, in one place.

Defaults make the realism targets true at scale factor 1 and above (tests in
tests/test_generate_realism.py check them on the written files). Any field can be
overridden from configuration (`generator:` in cartwheel.yaml, or `Profile.from_mapping`).

Growth rule (counts per scale factor `sf`):
- customers    = round(customers_per_sf × sf)                (1,000 at sf 1)
- transactions = round(transactions_per_sf × sf)             (10,000 at sf 1)
- items        = transactions + round(transactions × (mean_basket − 1)), exact
- products     = round(products_per_sf × sf ** product_growth_exponent) for sf >= 1
  (500 at sf 1, ~35,000 at sf 5,000: shops do not list 5,000× more products when they
  sell 5,000× more); below sf 1 linear, at least 50.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Profile:
    """Documented defaults; every field can be overridden from configuration."""

    # History window: the days that exist. Fixed by default so output is deterministic
    # and never in the future.
    start: date = date(2024, 1, 1)
    end: date = date(2025, 12, 31)

    # Volumes (see the growth rule in the module docstring).
    customers_per_sf: int = 1000
    transactions_per_sf: int = 10000
    products_per_sf: int = 500
    product_growth_exponent: float = 0.5
    mean_basket: float = 1.9  # items per transaction; baskets are 1 + a skewed extra
    basket_shape: float = 0.5  # gamma shape of the extra-item weights: lower = longer tail
    quantity_p: float = 0.62  # geometric quantity per line (most lines hold 1)
    max_quantity: int = 10

    # Calendar: how many orders each day gets (relative weights).
    weekend_factor: float = 1.24
    month_factors: tuple[float, ...] = (
        0.92, 0.85, 0.95, 0.95, 1.0, 0.97, 0.95, 1.0, 0.95, 1.02, 1.35, 1.55,
    )  # fmt: skip
    yearly_growth: float = 0.15  # orders grow 15% a year
    daily_noise: float = 0.10  # lognormal sigma of a day's volume

    # Customers.
    pre_registered_share: float = 0.6  # registered before the window (first batch)
    pre_registration_days: int = 730
    activity_sigma: float = 0.75  # lognormal sigma of how often a customer buys
    customer_change_rate: float = 0.2  # changes per customer-year
    customer_change_kinds: tuple[float, float, float] = (0.5, 0.3, 0.2)  # address, email, age
    age_weights: tuple[float, ...] = (0.18, 0.32, 0.25, 0.17, 0.08)  # vocab.AGE_GROUPS order

    # Products.
    initial_catalogue_share: float = 0.8  # listed from the first day; the rest launch later
    category_popularity: tuple[float, ...] = (0.155, 0.25, 0.18, 0.15, 0.135, 0.13)  # vocab order
    popularity_sigma: float = 0.5  # lognormal sigma of product popularity
    price_elasticity: float = 0.5  # popularity ∝ (price / category middle) ** -elasticity
    margin_range: tuple[float, float] = (0.12, 0.45)
    premium_margin_range: tuple[float, float] = (0.28, 0.48)  # price >= 200
    product_change_rate: float = 0.5  # changes per product-year
    product_change_kinds: tuple[float, float] = (0.75, 0.25)  # price, name
    price_change_range: tuple[float, float] = (0.85, 1.15)

    # Orders.
    payment_weights: tuple[float, ...] = (0.38, 0.24, 0.18, 0.10, 0.10)  # vocab order
    discount_values: tuple[int, ...] = (0, 5, 10, 15, 20, 25, 30, 40, 50, 60, 70)
    discount_weights: tuple[float, ...] = (
        0.45, 0.12, 0.11, 0.08, 0.07, 0.05, 0.04, 0.03, 0.02, 0.02, 0.01,
    )  # fmt: skip

    @classmethod
    def from_mapping(cls, overrides: Mapping[str, Any] | None) -> Profile:
        """Defaults with `overrides` applied; unknown keys are an error, not ignored."""
        profile = cls()
        if not overrides:
            return profile
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise ValueError(f"unknown generator profile setting(s): {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for key, value in overrides.items():
            default = getattr(profile, key)
            if isinstance(default, date):
                value = date.fromisoformat(str(value))
            elif isinstance(default, tuple):
                value = tuple(value)
            elif isinstance(default, bool | int | float):
                value = type(default)(value)
            values[key] = value
        return replace(profile, **values).checked()

    def checked(self) -> Profile:
        """Raise ValueError on settings that cannot produce valid data."""
        if self.end < self.start:
            raise ValueError("generator end date is before its start date")
        if self.mean_basket < 1:
            raise ValueError("mean_basket must be at least 1")
        if len(self.month_factors) != 12:
            raise ValueError("month_factors needs 12 values")
        if len(self.discount_values) != len(self.discount_weights):
            raise ValueError("discount_values and discount_weights differ in length")
        if not 0 < self.quantity_p <= 1:
            raise ValueError("quantity_p must be in (0, 1]")
        return self

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def counts(self, scale: float) -> dict[str, int]:
        """Customers, products, transactions and items at a scale factor (growth rule)."""
        if scale >= 1:
            products = round(self.products_per_sf * scale**self.product_growth_exponent)
        else:
            products = max(50, round(self.products_per_sf * scale))
        transactions = max(20, round(self.transactions_per_sf * scale))
        return {
            "customers": max(10, round(self.customers_per_sf * scale)),
            "products": products,
            "transactions": transactions,
            "transaction_items": transactions + round(transactions * (self.mean_basket - 1)),
        }
