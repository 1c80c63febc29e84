"""Work outside the engine (the generator's files, the analytics CSVs) shares one
in-memory DuckDB database per process: each further database cost 30-45 ms of CPU."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from cartwheel import local_duckdb
from cartwheel.analytics.runner import write_csv
from cartwheel.generate.core import generate


def test_generating_twice_and_writing_a_csv_start_one_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_duckdb._database.cache_clear()
    started: list[tuple] = []
    connect = duckdb.connect
    monkeypatch.setattr(
        duckdb, "connect", lambda *args, **options: started.append(args) or connect(*args)
    )
    first = generate(tmp_path / "first", scale=0.05, seed=7)
    second = generate(tmp_path / "second", scale=0.05, seed=7)
    writer = local_duckdb.local_connection()
    table = pa.table({"city": ["Porto", "Braga"], "orders": [12, 3]})
    write_csv(writer, table, tmp_path / "cities.csv")
    writer.close()
    assert started == [()]
    assert first.record_counts == second.record_counts
    for entity, path in first.files.items():
        assert path.read_bytes() == second.files[entity].read_bytes(), entity
    assert (tmp_path / "cities.csv").read_text() == "city,orders\nPorto,12\nBraga,3\n"


def test_each_user_has_its_own_registered_tables() -> None:
    one, other = local_duckdb.local_connection(), local_duckdb.local_connection()
    try:
        one.register("result", pa.table({"city": ["Faro"]}))
        assert one.execute("select city from result").fetchall() == [("Faro",)]
        with pytest.raises(duckdb.CatalogException, match="result"):
            other.execute("select city from result")
    finally:
        one.close()
        other.close()
