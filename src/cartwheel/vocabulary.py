"""The shop's vocabularies, defined once: canonical spellings of known values and the
bands the analytics report on.

Any non-blank category, sub-category, payment method, age group, city, state and country
is valid and kept as given. Only the spelling of a *known* value is canonicalised: a value
whose spelling key (trimmed, lower case, runs of spaces and underscores as one space)
matches a canonical value or one of its aliases becomes that canonical value
(`credit card`, `CREDIT_CARD` -> `Credit Card`); any other value passes through unchanged
and is counted as unknown (a note in the transformation summary, never a quarantine).

The lists below are the defaults of the `vocabulary` setting (what the generator writes);
a shop replaces or extends them in its configuration. Each run writes them to two small
tables the models join: `ops.vocabulary` and `ops.bands`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cartwheel.sqlfiles import table_ddl

if TYPE_CHECKING:
    from cartwheel.engines.base import Engine

CATEGORIES = ("Electronics", "Clothing", "Home & Kitchen", "Books", "Sports", "Beauty")
PAYMENT_METHODS = ("Credit Card", "Debit Card", "UPI", "Cash on Delivery", "Net Banking")
AGE_GROUPS = ("18-25", "26-35", "36-45", "46-60", "60+")
OFFLINE_PAYMENT_METHODS = ("Cash on Delivery",)
# The vocabularies with canonical spellings (each named after the column it spells).
CANONICAL_COLUMNS = ("category", "payment_method", "age_group")

# Amounts and percentages carry at most 4 decimals: `value <= 10` is `value < 10.0001`.
INCLUSIVE_STEP = 0.0001


def spelling_key(value: str) -> str:
    """What two spellings of one value share; the models compute the same in SQL
    (models/include/canonical_spelling.sql) over the trimmed value."""
    return re.sub(r"[\s_]+", " ", value.strip()).lower()


class BandSet(BaseModel):
    """Named bands in order; each ends at its upper bound, the last one has none.

    `upper_inclusive`: a value equal to a band's bound belongs to that band (discounts:
    10% is in `1-10%`) instead of the next one (spend: $1,000 is in `$1,000-$5,000`).
    """

    model_config = ConfigDict(extra="forbid")  # a misspelt key is an error

    upper_inclusive: bool = False
    bands: list[tuple[str, float | None]]

    @model_validator(mode="after")
    def _ordered(self) -> BandSet:
        bounds = [upper for _, upper in self.bands]
        if not bounds or bounds[-1] is not None or None in bounds[:-1]:
            raise ValueError("bands: every band but the last needs an upper bound")
        if any(a >= b for a, b in zip(bounds[:-2], bounds[1:-1], strict=True)):
            raise ValueError("bands: upper bounds must increase")
        return self


def _default_bands() -> dict[str, BandSet]:
    return {
        "price_category": BandSet(bands=[("Budget", 50), ("Mid-range", 200), ("Premium", None)]),
        "spending_segment": BandSet(
            bands=[
                ("$0-$1,000", 1000),
                ("$1,000-$5,000", 5000),
                ("$5,000-$10,000", 10000),
                ("$10,000+", None),
            ]
        ),
        "discount_range": BandSet(
            upper_inclusive=True,
            bands=[("0%", 0), ("1-10%", 10), ("11-25%", 25), ("26-50%", 50), ("50%+", None)],
        ),
    }


class VocabularySettings(BaseModel):
    """Canonical spellings (configuration) and band thresholds (docs/quality.md)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt key is an error

    canonical: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "category": list(CATEGORIES),
            "payment_method": list(PAYMENT_METHODS),
            "age_group": list(AGE_GROUPS),
        },
        description="Per vocabulary, the canonical spellings of known values.",
    )
    aliases: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Per vocabulary, other spellings of a canonical value (alias: canonical).",
    )
    offline_payment_methods: list[str] = Field(
        default_factory=lambda: list(OFFLINE_PAYMENT_METHODS),
        description="Payment methods whose payment_type is Offline (all others: Online).",
    )
    bands: dict[str, BandSet] = Field(
        default_factory=_default_bands,
        description="price_category, spending_segment and discount_range: band names in "
        "order with their upper bounds (docs/quality.md).",
    )
    earliest_date: date = Field(
        date(1900, 1, 1),
        description="Start of the sane window for dates: an earlier registration or "
        "transaction date is quarantined (invalid_<column>).",
    )
    days_after_today: int = Field(
        1,
        ge=0,
        le=366,
        description="End of the sane window for dates, in days after today (1: tomorrow, "
        "for a shop whose day starts earlier than ours); a later date is quarantined "
        "(future_<column>).",
    )

    @model_validator(mode="after")
    def _known(self) -> VocabularySettings:
        for name in (*self.canonical, *self.aliases):
            if name not in CANONICAL_COLUMNS:
                raise ValueError(f"vocabulary {name!r}: one of {', '.join(CANONICAL_COLUMNS)}")
        for name, aliases in self.aliases.items():
            unknown = set(aliases.values()) - set(self.canonical.get(name, []))
            if unknown:
                raise ValueError(f"aliases of {name}: not canonical: {', '.join(sorted(unknown))}")
        missing = set(_default_bands()) - set(self.bands)
        if missing:
            raise ValueError(f"bands: missing {', '.join(sorted(missing))}")
        return self

    def spelling_rows(self) -> list[tuple[str, int, str, str]]:
        """(vocabulary, position, canonical, spelling key) rows of `ops.vocabulary`;
        offline payment methods as vocabulary `offline_payment_method`."""
        rows: dict[tuple[str, str], tuple[str, int, str, str]] = {}
        lists = {**self.canonical, "offline_payment_method": self.offline_payment_methods}
        for name, values in lists.items():
            spellings = [(v, v) for v in values] + list(self.aliases.get(name, {}).items())
            for spelling, canonical in spellings:
                key = spelling_key(spelling)
                rows.setdefault((name, key), (name, values.index(canonical) + 1, canonical, key))
        return list(rows.values())

    def band_rows(self) -> list[tuple[Any, ...]]:
        """(band_set, position, name, lower_bound, upper_bound) rows: a value is in the
        band when `lower_bound <= value < upper_bound` (a missing bound is open; the SQL
        of that rule is models/include/band_of.sql). An inclusive bound is stored one
        step of the finest precision (4 decimals) higher."""
        rows = []
        for name, band_set in self.bands.items():
            step = INCLUSIVE_STEP if band_set.upper_inclusive else 0
            lower = None
            for position, (band, upper) in enumerate(band_set.bands, start=1):
                upper = None if upper is None else upper + step
                rows.append((name, position, band, lower, upper))
                lower = upper
        return rows


def write_vocabulary(engine: Engine, vocabulary: VocabularySettings) -> None:
    """Replace `ops.vocabulary`, `ops.bands` and `ops.date_window` with the configured
    lists and window (9 statements)."""
    for table, rows in (
        ("ops.vocabulary", vocabulary.spelling_rows()),
        ("ops.bands", vocabulary.band_rows()),
        ("ops.date_window", [(vocabulary.earliest_date, vocabulary.days_after_today)]),
    ):
        engine.execute(f"drop table if exists {table}")
        engine.execute(table_ddl("ops/ddl.sql", table))
        values = ", ".join("(" + ", ".join(["?"] * len(rows[0])) + ")" for _ in rows)
        engine.execute(
            f"insert into {table} values {values}", [value for row in rows for value in row]
        )
