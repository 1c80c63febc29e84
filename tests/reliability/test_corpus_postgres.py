"""The corpus on PostgreSQL: the same reader feeds its COPY and the same models run, so
every readable case must come out with the counts and quarantine reasons worked out by
hand (refused inputs are the DuckDB corpus's concern: the same reader refuses them).
Found two differences the DuckDB corpus cannot: a NUL byte in a quarantined line, and a
no-break space after a key (PostgreSQL's trim() left it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cartwheel.config import Settings
from cartwheel.engines.postgres import PostgresEngine
from cartwheel.ingest import ingest
from cartwheel.quality.report import run_quality
from tests.pg_server import binaries_available, new_database, shared_server
from tests.reliability.base import COUNTS, write_base
from tests.reliability.corpus import CASES, Case
from tests.reliability.test_corpus import _counts

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,  # about 2.5 s a case, 4-5 minutes in all on a loaded 2-core machine
    pytest.mark.skipif(not binaries_available(), reason="initdb/pg_ctl not on PATH"),
]


@pytest.mark.parametrize(
    "case", [pytest.param(case, id=case.name) for case in CASES if case.refused is None]
)
def test_case_on_postgres(case: Case, tmp_path: Path) -> None:
    folder = write_base(tmp_path / "batch", case.files())
    engine = PostgresEngine(Settings(engine="postgres", database_url=new_database(shared_server())))
    try:
        engine.create_schemas()
        ingest(engine, folder, batch_id="batch", run_id="corpus")
        run_quality(engine, "corpus", min_score=0.0, input_dir=folder)
        held = {
            (entity, int(line), reason)
            for entity, line, reason in engine.query(
                "select entity, source_line, reason from ops.quarantine where released_at is null"
            )
        }
        counts = _counts(engine)
        assert {e: counts[e] for e in COUNTS} == {e: case.counts(e) for e in COUNTS}, held
        assert case.reasons <= held, f"missing from quarantine: {case.reasons - held}"
    finally:
        engine.close()
