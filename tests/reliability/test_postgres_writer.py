"""One writer per PostgreSQL database, whatever its data folder: the second is refused
while the first holds the database's advisory lock (taken for the whole run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cartwheel.config import Settings
from cartwheel.engines.base import WriterBusy
from cartwheel.engines.postgres import PostgresEngine
from cartwheel.orchestration import Pipeline
from cartwheel.orchestration.lock import LockBusy
from tests.pg_server import binaries_available, new_database, shared_server
from tests.reliability.base import COUNTS, write_base

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not binaries_available(), reason="initdb/pg_ctl not on PATH"),
]


@pytest.fixture(scope="module")
def url() -> str:
    return new_database(shared_server())


def settings(url: str, folder: Path, input_dir: Path) -> Settings:
    return Settings(
        engine="postgres", database_url=url, data_dir=folder, input_dir=input_dir, retry_attempts=0
    )


def test_second_writer_from_another_folder_is_refused(url: str, tmp_path: Path) -> None:
    input_dir = write_base(tmp_path / "in")
    first = PostgresEngine(settings(url, tmp_path / "a", input_dir))
    first.claim_writer()
    first.reconnect()  # a retried step reconnects: the lock comes back with it
    try:
        second = Pipeline(settings(url, tmp_path / "b", input_dir))
        with pytest.raises(LockBusy, match="another cartwheel run is writing to this PostgreSQL"):
            second.run()
        other = PostgresEngine(settings(url, tmp_path / "c", input_dir))
        with pytest.raises(WriterBusy):
            other.claim_writer()
        other.close()
    finally:
        first.close()
    done = Pipeline(settings(url, tmp_path / "b", input_dir))
    done.run()  # the lock went with the first connection
    engine = PostgresEngine(settings(url, tmp_path / "b", input_dir))
    assert engine.count("production.transaction_items") == COUNTS["transaction_items"]
    assert engine.scalar("select count(*) from pg_locks where locktype = 'advisory'") == 0
    engine.close()
