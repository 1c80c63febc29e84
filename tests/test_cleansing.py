"""Cleansing never damages a valid value: a table of real-world names and places that
must come through byte for byte, and the all-upper / all-lower names that are re-cased."""

from __future__ import annotations

from pathlib import Path

from tests.test_ingest_malformed import CLEAN, assert_accounted, load, n, write_batch

# (first name, last name, city, state, country): kept exactly as written.
KEPT = [
    ("Siobhán", "O'Donnell", "Cork", "Munster", "Ireland"),
    ("Hamish", "MacDonald", "Inverness", "Scotland", "United Kingdom"),
    ("Mairi", "McLeod", "Stornoway", "Na h-Eileanan Siar", "UK"),
    ("Pieter", "van der Berg", "Den Haag", "Zuid-Holland", "Nederland"),
    ("José María", "García Márquez", "Sevilla", "Andalucía", "España"),
    ("Zoë", "Brontë-Smith", "Zürich", "ZH", "Schweiz"),
    ("Jean-Luc", "d'Artagnan", "Montréal", "Québec", "Canada"),
    ("Wei", "Zhang", "New York", "New York", "USA"),
    ("伟", "张", "北京", "北京市", "中国"),
    ("Ana", "Silva", "Austin", "Texas", "United States"),
    ("Ben", "Okafor", "Boston", "MA", "US"),
    ("DeShawn", "McAllister-Ruiz", "Saint Paul", "Minnesota", "USA"),
]
# Entirely upper or lower case: re-cased word by word (MACDONALD -> Macdonald: the
# capital inside a Mac/Mc name cannot be told from the letters alone; documented).
RECASED = [
    (("o'donnell", "MARY-JANE"), ("O'Donnell", "Mary-Jane")),
    (("JOSÉ MARÍA", "garcía"), ("José María", "García")),
    (("zhang", "MACDONALD"), ("Zhang", "Macdonald")),
]


def _customers(rows: list[tuple[str, ...]]) -> list[str]:
    return [
        f"C-{i:03d},{first},{last},c{i}@example.com,,2023-01-05,{city},{state},{country},26-35"
        for i, (first, last, city, state, country) in enumerate(rows, start=1)
    ]


def test_real_world_names_and_places_come_through_byte_for_byte(tmp_path: Path) -> None:
    lines = dict(CLEAN)
    # The orders reference CUST0001-CUST0003: keep those, add the table's customers.
    lines["customers"] = CLEAN["customers"] + _customers(KEPT)
    outcome = load(write_batch(tmp_path / "b", lines))
    assert outcome.quarantine == set()
    assert_accounted(outcome, n(customers=len(lines["customers"])))
    rows = outcome.engine.query(
        "select first_name, last_name, city, state, country from staging.customers_validated "
        "where customer_id like 'C-%' order by customer_id"
    )
    assert rows == KEPT
    for value in (cell for row in rows for cell in row):
        assert value.encode() in (tmp_path / "b" / "customers.csv").read_bytes()


def test_only_entirely_upper_or_lower_names_are_recased(tmp_path: Path) -> None:
    lines = dict(CLEAN)
    written = [(first, last, "Dublin", "Leinster", "Ireland") for (first, last), _ in RECASED]
    lines["customers"] = CLEAN["customers"] + _customers(written)
    outcome = load(write_batch(tmp_path / "b", lines))
    rows = outcome.engine.query(
        "select first_name, last_name from staging.customers_validated "
        "where customer_id like 'C-%' order by customer_id"
    )
    assert rows == [expected for _, expected in RECASED]


def test_vocabulary_aliases_spelling_keys_and_bands() -> None:
    import pytest
    from pydantic import ValidationError

    from cartwheel.vocabulary import VocabularySettings, spelling_key

    assert spelling_key("  CREDIT_CARD ") == spelling_key("credit   card") == "credit card"
    vocabulary = VocabularySettings(aliases={"payment_method": {"COD": "Cash on Delivery"}})
    rows = vocabulary.spelling_rows()
    assert ("payment_method", 4, "Cash on Delivery", "cod") in rows
    assert ("offline_payment_method", 1, "Cash on Delivery", "cash on delivery") in rows
    # Half-open bands; an inclusive bound (discounts) one 4-decimal step higher.
    bands = {(b[0], b[2]): (b[3], b[4]) for b in vocabulary.band_rows()}
    assert bands[("price_category", "Budget")] == (None, 50)
    assert bands[("discount_range", "1-10%")] == (0.0001, 10.0001)
    assert bands[("spending_segment", "$10,000+")] == (10000, None)
    with pytest.raises(ValidationError, match="not canonical"):
        VocabularySettings(aliases={"payment_method": {"pp": "PayPal"}})
