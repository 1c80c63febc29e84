"""PostgreSQL stages what DuckDB's reader stages (the same reader feeds its COPY): the
lines an unterminated quote swallows are recovered there too, and a NUL byte is
quarantined."""

from __future__ import annotations

from pathlib import Path

import pytest

from cartwheel.config import Settings
from cartwheel.engines.postgres import PostgresEngine
from cartwheel.ingest import ingest
from tests.pg_server import binaries_available, new_database, shared_server
from tests.reliability.base import ROWS, csv_bytes, write_base
from tests.reliability.test_line_accounting import BROKEN, EXTRA

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not binaries_available(), reason="initdb/pg_ctl not on PATH"),
]


def test_unterminated_quote_followed_by_more_than_10_kb_on_postgres(tmp_path: Path) -> None:
    rows = [ROWS["customers"][0], BROKEN, *ROWS["customers"][2:], *EXTRA]
    folder = write_base(tmp_path / "b", {"customers": csv_bytes("customers", rows)})
    engine = PostgresEngine(Settings(engine="postgres", database_url=new_database(shared_server())))
    try:
        engine.create_schemas()
        ingest(engine, folder, batch_id="b", run_id="r")
        assert engine.query(
            "select source_line, reason, raw_content from ops.quarantine where entity = 'customers'"
        ) == [(3, "malformed_csv_line", BROKEN)]
        lines = dict(engine.query("select source_line, customer_id from staging.customers"))
        assert len(lines) == 124 and lines[126] == "CUST0219"
        assert set(lines) == set(range(2, 127)) - {3}
    finally:
        engine.close()


def test_nul_byte_in_a_line_is_quarantined_on_postgres(tmp_path: Path) -> None:
    """PostgreSQL text cannot hold a NUL: the quarantined line shows it as U+FFFD."""
    products = csv_bytes("products").replace(b"Chef Pan", b"Chef\x00Pan")
    folder = write_base(tmp_path / "b", {"products": products})
    engine = PostgresEngine(Settings(engine="postgres", database_url=new_database(shared_server())))
    try:
        engine.create_schemas()
        ingest(engine, folder, batch_id="b", run_id="r")
        held = engine.query(
            "select source_line, reason, raw_content from ops.quarantine where entity = 'products'"
        )
        assert held == [(4, "control_character", ROWS["products"][2].replace(" ", "\ufffd", 1))]
    finally:
        engine.close()
