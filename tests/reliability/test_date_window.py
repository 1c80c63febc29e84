"""The sane window for dates: from vocabulary.earliest_date (default 1900-01-01) to today +
vocabulary.days_after_today (default 1: tomorrow, a shop whose day starts earlier)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from cartwheel.config import load_settings
from cartwheel.engines.duckdb import DuckDBEngine
from cartwheel.ingest import ingest
from cartwheel.quality.report import run_quality
from cartwheel.vocabulary import VocabularySettings
from tests.reliability.base import ROWS, csv_bytes, write_base

TOMORROW = (date.today() + timedelta(days=1)).isoformat()
IN_TWO_DAYS = (date.today() + timedelta(days=2)).isoformat()


def held(folder: Path, vocabulary: VocabularySettings) -> set[tuple[str, int, str]]:
    engine = DuckDBEngine(":memory:")
    ingest(engine, folder, batch_id="b", run_id="r", vocabulary=vocabulary)
    run_quality(engine, "r", min_score=0.0, input_dir=folder)
    rows = engine.query("select entity, source_line, reason from ops.quarantine")
    return {(entity, int(line), reason) for entity, line, reason in rows}


def dated(folder: Path) -> Path:
    """The base set with José María García (CUST0004, line 5) registered tomorrow and his
    order TXN00004 (line 5) placed tomorrow; TXN00002 (line 3) dated in two days; Zhang
    Wei (CUST0005, line 6) registered in two days."""
    customers, orders = list(ROWS["customers"]), list(ROWS["transactions"])
    customers[3] = customers[3].replace("2023-04-01", TOMORROW)
    customers[4] = customers[4].replace("2023-05-09", IN_TWO_DAYS)
    orders[3] = orders[3].replace("2024-01-13", TOMORROW)
    orders[1] = orders[1].replace("2024-01-11", IN_TWO_DAYS)
    files = {
        "customers": csv_bytes("customers", customers),
        "transactions": csv_bytes("transactions", orders),
    }
    return write_base(folder, files)


def test_window_ends_tomorrow(tmp_path: Path) -> None:
    assert held(dated(tmp_path / "b"), VocabularySettings()) == {
        ("customers", 6, "future_registration_date"),
        ("transactions", 6, "customer_rejected"),  # Zhang Wei's order
        ("transaction_items", 7, "parent_transaction_rejected"),
        ("transaction_items", 8, "parent_transaction_rejected"),
        ("transactions", 3, "future_transaction_date"),
        ("transaction_items", 4, "parent_transaction_rejected"),
    }


def test_window_end_is_configurable(tmp_path: Path) -> None:
    late = held(dated(tmp_path / "b"), VocabularySettings(days_after_today=0))
    # Tomorrow is outside too: José María's registration and his order (its own date
    # is its first fault), with its one item.
    assert late - held(dated(tmp_path / "a"), VocabularySettings()) == {
        ("customers", 5, "future_registration_date"),
        ("transactions", 5, "future_transaction_date"),
        ("transaction_items", 6, "parent_transaction_rejected"),
    }
    # Two days: every date is inside; Zhang Wei's 2024 order now precedes his registration.
    assert held(dated(tmp_path / "c"), VocabularySettings(days_after_today=2)) == {
        ("transactions", 6, "transaction_before_registration"),
        ("transaction_items", 7, "parent_transaction_rejected"),
        ("transaction_items", 8, "parent_transaction_rejected"),
    }


def test_window_start_is_configurable(tmp_path: Path) -> None:
    folder = write_base(tmp_path / "b")
    assert held(folder, VocabularySettings()) == set()
    late = held(folder, VocabularySettings(earliest_date=date(2023, 2, 1)))
    # CUST0001 registered 2023-01-05: before the window, with the order and items of hers.
    assert {row for row in late if row[0] == "customers"} == {
        ("customers", 2, "invalid_registration_date")
    }
    assert ("transactions", 2, "customer_rejected") in late


def test_window_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARTWHEEL_VOCABULARY__EARLIEST_DATE", "1950-06-01")
    monkeypatch.setenv("CARTWHEEL_VOCABULARY__DAYS_AFTER_TODAY", "0")
    vocabulary = load_settings().vocabulary
    assert (vocabulary.earliest_date, vocabulary.days_after_today) == (date(1950, 6, 1), 0)
    monkeypatch.setenv("CARTWHEEL_VOCABULARY__DAYS_AFTER_TODAY", "-1")
    with pytest.raises(Exception, match="days_after_today"):
        load_settings()
