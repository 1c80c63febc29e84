"""The hostile-input corpus (tests/reliability/corpus.py), one test per case.

Each case is loaded (ingest, then the row checks) into its own in-memory DuckDB. Per
entity, the records the file holds (counted by hand) must come out as exactly the
expected promoted, quarantined and duplicate counts; no exception but a one-line input
error may escape; promoted values are checked where the case names them. The tally
(cases, tracebacks, rows lost, wrong values, whole-run failures) is printed at the end of
the session (`make selfcheck`).
"""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest

from cartwheel.contract import PRIMARY_KEYS
from cartwheel.engines.duckdb import DuckDBEngine
from cartwheel.ingest import ingest
from cartwheel.ingest.raw_files import InputError
from cartwheel.quality.report import run_quality
from tests.reliability.base import COUNTS, write_base
from tests.reliability.corpus import CASES, Case
from tests.reliability.tally import TALLY


def _load(case: Case, folder: Path) -> DuckDBEngine:
    write_base(folder, case.files())
    engine = DuckDBEngine(":memory:")
    ingest(engine, folder, batch_id=folder.name, run_id="corpus")
    run_quality(engine, "corpus", min_score=0.0, input_dir=folder)
    return engine


def _counts(engine: DuckDBEngine) -> dict[str, tuple[int, int, int]]:
    rows = engine.query(
        "select entity, sum(rows_promoted), sum(rows_quarantined), sum(duplicates_removed) "
        "from (" + _CONSERVATION + ") as rows_out group by entity"
    )
    return {entity: (int(p), int(q), int(d)) for entity, p, q, d in rows}


_CONSERVATION = " union all ".join(
    f"select '{entity}' as entity, "
    "count(*) filter (where disposition = 'promoted') as rows_promoted, "
    "0 as rows_quarantined, "
    "count(*) filter (where disposition = 'duplicate') as duplicates_removed "
    f"from staging.{entity}_validated "
    f"union all select '{entity}', 0, count(*), 0 from ops.quarantine "
    f"where entity = '{entity}' and released_at is null"
    for entity in COUNTS
)


@pytest.mark.parametrize("case", [pytest.param(case, id=case.name) for case in CASES])
def test_case(case: Case, tmp_path: Path) -> None:
    TALLY.cases += 1
    try:
        engine = _load(case, tmp_path / "batch")
    except InputError as error:
        if case.refused is None:
            TALLY.failures.append(f"{case.name}: {error}")
            pytest.fail(f"whole-run failure on a readable file: {error}")
        assert case.refused in str(error) and "\n" not in str(error)
        return
    except Exception:
        TALLY.tracebacks.append(case.name)
        pytest.fail("traceback:\n" + traceback.format_exc())
    assert case.refused is None, "the input should have been refused"
    counts = _counts(engine)
    lost = {
        entity: case.records(entity) - sum(counts[entity])
        for entity in COUNTS
        if sum(counts[entity]) != case.records(entity)
    }
    TALLY.rows_lost += sum(abs(n) for n in lost.values())
    wrong = {}
    for (entity, key, column), expected in case.values.items():
        got = engine.scalar(
            f"select {column} from staging.{entity}_validated "
            f"where {PRIMARY_KEYS[entity]} = ? and disposition = 'promoted'",
            [key],
        )
        if got != expected and not (
            isinstance(expected, int | float) and got is not None and float(got) == expected
        ):
            wrong[(entity, key, column)] = (got, expected)
    TALLY.wrong_values += len(wrong)
    held = {
        (entity, int(line), reason)
        for entity, line, reason in engine.query(
            "select entity, source_line, reason from ops.quarantine where released_at is null"
        )
    }
    assert not lost, f"records neither promoted, quarantined nor removed: {lost}; {counts}"
    assert not wrong, f"wrong values (got, expected): {wrong}"
    assert {e: counts[e] for e in COUNTS} == {e: case.counts(e) for e in COUNTS}, held
    assert case.reasons <= held, f"missing from quarantine: {case.reasons - held}; held {held}"
