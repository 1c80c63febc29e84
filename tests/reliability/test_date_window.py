"""The sane window for dates: configurable start (vocabulary.earliest_date), today as end."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cartwheel.config import load_settings
from cartwheel.engines.duckdb import DuckDBEngine
from cartwheel.ingest import ingest
from cartwheel.quality.report import run_quality
from cartwheel.vocabulary import VocabularySettings
from tests.reliability.base import write_base


def held(folder: Path, vocabulary: VocabularySettings) -> set[tuple[str, int, str]]:
    engine = DuckDBEngine(":memory:")
    ingest(engine, folder, batch_id="b", run_id="r", vocabulary=vocabulary)
    run_quality(engine, "r", min_score=0.0, input_dir=folder)
    rows = engine.query("select entity, source_line, reason from ops.quarantine")
    return {(entity, int(line), reason) for entity, line, reason in rows}


def test_window_start_is_configurable(tmp_path: Path) -> None:
    folder = write_base(tmp_path / "b")
    assert held(folder, VocabularySettings()) == set()
    late = held(folder, VocabularySettings(earliest_date=date(2023, 2, 1)))
    # CUST0001 registered 2023-01-05: before the window, with the order and items of hers.
    assert {row for row in late if row[0] == "customers"} == {
        ("customers", 2, "invalid_registration_date")
    }
    assert ("transactions", 2, "customer_rejected") in late


def test_window_start_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARTWHEEL_VOCABULARY__EARLIEST_DATE", "1950-06-01")
    assert load_settings().vocabulary.earliest_date == date(1950, 6, 1)
