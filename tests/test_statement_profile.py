"""bench/statement_profile.py's growth mode: statements matched across scale factors by
text and occurrence, with the log-log slope of their CPU seconds."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import duckdb
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "statement_profile.py"

FACTS = "insert into warehouse.fact_sales select (select first_sales_key from wh_batch) - 1"
BACKLOG = "create temporary table wh_new_items as select item_id, min(batch_id) as batch_id"
CHECKPOINT = "checkpoint"
SCD2 = "update warehouse.dim_customers set end_date = changed.effective_date"


@pytest.fixture(scope="module")
def profile():  # noqa: ANN201 - the bench module
    spec = importlib.util.spec_from_file_location("statement_profile", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_profile(path: Path, statements: list[tuple[str, float]]) -> Path:
    """A profile as the timed connection writes it: one JSON object per statement."""
    path.write_text(
        "".join(
            json.dumps({"seconds": cpu * 1.5, "cpu_seconds": cpu, "sql": sql}) + "\n"
            for sql, cpu in statements
        )
    )
    return path


@pytest.fixture
def three_scales(tmp_path: Path) -> dict[float, Path]:
    """SF 1, 10, 100: the fact insert grows linearly, the backlog query quadratically,
    the checkpoint runs twice (its second run not at all faster), the SCD2 update is
    missing at SF 100 and the backlog query takes no measurable time at SF 1."""
    return {
        1.0: write_profile(
            tmp_path / "sf1.jsonl",
            [(FACTS, 0.2), (BACKLOG, 0.0), (CHECKPOINT, 0.05), (CHECKPOINT, 0.05), (SCD2, 0.01)],
        ),
        10.0: write_profile(
            tmp_path / "sf10.jsonl",
            [(FACTS, 2.0), (BACKLOG, 0.5), (CHECKPOINT, 0.05), (CHECKPOINT, 0.5), (SCD2, 0.1)],
        ),
        100.0: write_profile(
            tmp_path / "sf100.jsonl",
            [(CHECKPOINT, 0.05), (FACTS, 20.0), (BACKLOG, 50.0), (CHECKPOINT, 5.0)],
        ),
    }


def test_exponent_is_the_log_log_slope(profile) -> None:  # noqa: ANN001
    assert profile.growth_exponent([1, 10, 100], [0.2, 2.0, 20.0]) == pytest.approx(1.0)
    assert profile.growth_exponent([1, 10, 100], [0.01, 1.0, 100.0]) == pytest.approx(2.0)
    assert profile.growth_exponent([30, 100, 300], [3.0, 3.0, 3.0]) == pytest.approx(0.0)
    # Least squares, not the end points: 1 -> 1, 10 -> 100, 100 -> 100 fits a slope of 1.
    assert profile.growth_exponent([1, 10, 100], [1.0, 100.0, 100.0]) == pytest.approx(1.0)
    assert profile.growth_exponent([1, 10, 100], [0.0, 1.0, 10.0]) is None


def test_growth_matches_text_and_occurrence(profile, three_scales) -> None:  # noqa: ANN001
    rows = profile.growth(three_scales)
    assert [key for key, _, _ in rows] == [
        (BACKLOG, 1),
        (FACTS, 1),
        (CHECKPOINT, 2),
        (CHECKPOINT, 1),
    ]
    by_key = {key: (times, exponent) for key, times, exponent in rows}
    assert by_key[(FACTS, 1)][0] == [0.2, 2.0, 20.0]
    assert by_key[(FACTS, 1)][1] == pytest.approx(1.0)
    assert by_key[(CHECKPOINT, 1)] == ([0.05, 0.05, 0.05], pytest.approx(0.0))
    assert by_key[(CHECKPOINT, 2)][1] == pytest.approx(1.0)
    assert by_key[(BACKLOG, 1)] == ([0.0, 0.5, 50.0], None)
    # The SCD2 update is not in the SF 100 profile, so it has no exponent to report.
    assert SCD2 not in {sql for sql, _ in by_key}


def test_growth_keeps_the_costliest(profile, three_scales) -> None:  # noqa: ANN001
    assert [key for key, _, _ in profile.growth(three_scales, top=2)] == [(BACKLOG, 1), (FACTS, 1)]


def test_growth_table_is_markdown(profile, three_scales, capsys) -> None:  # noqa: ANN001
    profile.print_growth([f"{scale:g}={path}" for scale, path in three_scales.items()])
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == [
        "| statement | SF 1 CPU s | SF 10 CPU s | SF 100 CPU s | exponent |",
        "|---|---:|---:|---:|---:|",
    ]
    assert lines[2:] == [
        f"| `{BACKLOG}` | 0.00 | 0.50 | 50.00 | – |",
        f"| `{FACTS[:90]}` | 0.20 | 2.00 | 20.00 | 1.00 |",
        f"| `{CHECKPOINT} (#2)` | 0.05 | 0.50 | 5.00 | 1.00 |",
        f"| `{CHECKPOINT}` | 0.05 | 0.05 | 0.05 | 0.00 |",
    ]


def test_a_superlinear_statement_is_flagged(profile, tmp_path: Path) -> None:
    """Negative case: a fact insert that turned quadratic shows exponent 2, not 1."""
    quadratic = {
        30.0: write_profile(tmp_path / "a.jsonl", [(FACTS, 0.9)]),
        100.0: write_profile(tmp_path / "b.jsonl", [(FACTS, 10.0)]),
        300.0: write_profile(tmp_path / "c.jsonl", [(FACTS, 90.0)]),
    }
    [(_, _, exponent)] = profile.growth(quadratic)
    assert exponent == pytest.approx(2.0, abs=0.01)


def test_a_cursor_of_a_timed_connection_is_timed_too(profile, tmp_path: Path) -> None:  # noqa: ANN001
    """cartwheel.local_duckdb hands out cursors: their statements belong in the profile."""
    log_path = tmp_path / "profile.jsonl"
    with log_path.open("w") as log:
        timed = profile.TimedConnection(duckdb.connect(), log)
        cursor = timed.cursor()
        assert cursor.execute("select 'Coimbra' as city").fetchall() == [("Coimbra",)]
        timed.execute("select 2")
    assert [row["sql"] for row in map(json.loads, log_path.read_text().splitlines())] == [
        "select 'Coimbra' as city",
        "select 2",
    ]
