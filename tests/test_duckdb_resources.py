"""DuckDB's memory limit and spill folder: sized to the machine unless configured."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cartwheel.config import ConfigError, load_settings
from cartwheel.engines import duckdb as duckdb_engine
from cartwheel.engines.duckdb import DuckDBEngine, memory_limit, resource_settings

GIB = 2**30


def _current(engine: DuckDBEngine, name: str) -> str:
    return str(engine.con.execute(f"select current_setting('{name}')").fetchall()[0][0])


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A machine with 24 GiB and a container limit file that says `max` (no limit)."""
    cgroup = tmp_path / "memory.max"
    cgroup.write_text("max\n")
    monkeypatch.setattr(duckdb_engine, "CGROUP_MEMORY_MAX", cgroup)
    pages = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": 24 * GIB // 4096}
    monkeypatch.setattr(duckdb_engine.os, "sysconf", pages.__getitem__)
    return cgroup


def test_auto_is_a_fifth_of_the_machine(machine: Path) -> None:
    assert memory_limit("auto") == f"{24 * 1024 // 5}MiB"  # 4915MiB


def test_auto_follows_a_lower_container_limit(machine: Path) -> None:
    machine.write_text(f"{8 * GIB}\n")
    assert memory_limit("auto") == f"{8 * 1024 // 5}MiB"


def test_a_container_limit_above_the_machine_changes_nothing(machine: Path) -> None:
    machine.write_text(f"{64 * GIB}\n")
    assert memory_limit("auto") == "4915MiB"


def test_a_configured_size_is_used_as_written() -> None:
    assert memory_limit("3GB") == "3GB"


def test_a_run_connection_gets_the_limit_and_the_spill_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CARTWHEEL_DUCKDB_MEMORY_LIMIT", "1GB")
    monkeypatch.setenv("CARTWHEEL_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "spill"))
    settings = load_settings(data_dir=tmp_path / "data")
    assert resource_settings(settings) == {
        "memory_limit": "1GB",
        "temp_directory": str(tmp_path / "spill"),
    }
    engine = DuckDBEngine.open_for_run(settings)
    try:
        assert _current(engine, "memory_limit") == "953.6 MiB"  # 10^9 bytes
        assert _current(engine, "temp_directory") == str(tmp_path / "spill")
    finally:
        engine.close()


def test_by_default_a_run_is_limited_to_the_auto_share(tmp_path: Path) -> None:
    reference = duckdb.connect()
    reference.execute(f"set memory_limit = '{memory_limit('auto')}'")
    engine = DuckDBEngine.open_for_run(load_settings(data_dir=tmp_path / "data"))
    try:
        assert _current(engine, "memory_limit") == str(
            reference.execute("select current_setting('memory_limit')").fetchall()[0][0]
        )
    finally:
        engine.close()
        reference.close()


@pytest.mark.parametrize("value", ["lots", "4 parsecs", "-1GB", ""])
def test_a_limit_that_is_no_size_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CARTWHEEL_DUCKDB_MEMORY_LIMIT", value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "duckdb_memory_limit" in str(error.value) and "\n" not in str(error.value)
