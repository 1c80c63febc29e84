"""Hypothesis fuzzing of each raw file.

Two kinds of input per entity: well-formed CSV records with arbitrary text in every field
(written by Python's csv module, so each is exactly one record: the expected count is
known without the pipeline), and arbitrary bytes spliced into the base file. Either way
no traceback may escape, and every record comes out promoted, quarantined or removed as
a duplicate (for the first kind: exactly as many records as were written).
CARTWHEEL_FUZZ_EXAMPLES sets the examples per test (default 8).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartwheel.engines.duckdb import DuckDBEngine
from cartwheel.ingest import ingest
from cartwheel.ingest.raw_files import InputError
from cartwheel.quality.report import run_quality
from tests.reliability.base import COUNTS, HEADERS, csv_bytes, write_base

EXAMPLES = int(os.environ.get("CARTWHEEL_FUZZ_EXAMPLES", "8"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Field text: anything printable or not, but no NUL and no lone CR (the reader's own
# line-level handling of those is a corpus case of its own).
FIELD = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=30
)


def accounted(files: dict[str, bytes]) -> dict[str, tuple[int, int]]:
    """Per entity: (records out, rows in by the conservation equation); raises only
    InputError (one line) for an input it refuses."""
    with tempfile.TemporaryDirectory(prefix="cartwheel-fuzz-") as folder:
        batch = write_base(Path(folder) / "batch", files)
        engine = DuckDBEngine(":memory:")
        ingest(engine, batch, batch_id="fuzz", run_id="fuzz")
        outcome = run_quality(engine, "fuzz", min_score=0.0, input_dir=batch)
        result = {}
        for row in outcome.conservation:
            out = row["rows_promoted"] + row["rows_quarantined"] + row["duplicates_removed"]
            result[row["entity"]] = (out, row["rows_in"])
        engine.close()
        return result


def records(entity: str, rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return csv_bytes(entity) + buffer.getvalue().encode()


def rows_of(entity: str) -> st.SearchStrategy[list[list[str]]]:
    width = len(HEADERS[entity].split(","))
    return st.lists(st.lists(FIELD, min_size=width, max_size=width), max_size=5)


@FUZZ
@given(st.fixed_dictionaries({entity: rows_of(entity) for entity in COUNTS}))
def test_arbitrary_records_in_every_file_are_each_accounted_for(
    rows: dict[str, list[list[str]]],
) -> None:
    counts = accounted({entity: records(entity, added) for entity, added in rows.items()})
    assert counts == {
        entity: (COUNTS[entity] + len(added), COUNTS[entity] + len(added))
        for entity, added in rows.items()
    }


@FUZZ
@given(st.sampled_from(list(COUNTS)), st.data())
def test_arbitrary_bytes_never_raise_and_balance(entity: str, data: st.DataObject) -> None:
    base = csv_bytes(entity)
    at = data.draw(st.integers(0, len(base)))
    junk = data.draw(st.binary(min_size=1, max_size=64))
    try:
        counts = accounted({entity: base[:at] + junk + base[at:]})
    except InputError as error:  # refused: one line naming the file
        assert "\n" not in str(error) and entity in str(error)
        return
    assert all(out == rows_in for out, rows_in in counts.values()), counts
