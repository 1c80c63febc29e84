"""PostgreSQL next to DuckDB: COPY load throughput and end-to-end time per scale factor.

    .venv/bin/python bench/bench_postgres.py                  # scale factors 1 and 10
    .venv/bin/python bench/bench_postgres.py --scales 1 10 --repeat 3
    .venv/bin/python bench/bench_postgres.py --database-url postgresql://me@db:5432/bench

Without --database-url a throwaway server is started from PATH (initdb/pg_ctl, as in the
tests) with durable settings (fsync on), and stopped at the end. Each scale factor is
generated once; then `cartwheel run --input RAW` (ingest → … → dashboard, generation not
included) runs in a fresh process and data folder on DuckDB and on PostgreSQL (a fresh
database each time: the schemas are dropped first with --rebuild). Load throughput:
  - ingest: staged rows / ingest step seconds (DuckDB reads the files, COPY loads them);
  - COPY alone: rows per second of `PostgresEngine.copy_arrow` of the item rows.
The best of --repeat runs is shown.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cartwheel.config import Settings  # noqa: E402
from cartwheel.engines.postgres import PostgresEngine  # noqa: E402
from cartwheel.generate import generate  # noqa: E402
from tests.pg_server import PostgresServer  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from run_bench import one_run as timed_run  # noqa: E402


def one_run(raw: Path, extra: list[str]) -> dict:
    """One `cartwheel run --input RAW` in a fresh process and data folder (run_bench's)."""
    return timed_run(1, ["--input", str(raw), *extra])  # --scale is unused with --input


def copy_throughput(url: str, raw: Path) -> tuple[int, float]:
    """COPY the item rows (as text, like staging) into a scratch table: (rows, seconds)."""
    items = duckdb.sql(
        f"select * from read_csv('{raw / 'transaction_items.csv'}', all_varchar = true)"
    ).to_arrow_table()
    engine = PostgresEngine(Settings(engine="postgres", database_url=url))
    try:
        columns = ", ".join(f"{name} text" for name in items.column_names)
        engine.execute("drop table if exists bench_copy")
        engine.execute(f"create table bench_copy ({columns})")
        began = time.perf_counter()
        with engine.transaction():
            rows = engine.copy_arrow("bench_copy", items.to_reader(max_chunksize=100_000))
        seconds = time.perf_counter() - began
        engine.execute("drop table bench_copy")
    finally:
        engine.close()
    return rows, seconds


def print_runs(label: str, runs: list[dict]) -> dict:
    best = min(runs, key=lambda r: r["wall"])
    print(f"  {label}: best of {len(runs)}, wall {best['wall']:.2f} s")
    for name, (seconds, rows) in best["steps"].items():
        print(f"    {name:<12} {rows:>12,} {seconds:>9.3f}")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 10])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--database-url", help="an existing server (default: a throwaway one)")
    args = parser.parse_args()

    server = None
    url = args.database_url
    if url is None:
        server = PostgresServer(durable=True).start()
        url = server.url
        os.environ["PGPASSWORD"] = server.password  # the child processes read it
    work = Path(tempfile.mkdtemp(prefix="cartwheel-bench-raw-"))
    try:
        for scale in args.scales:
            raw = work / f"sf{scale:g}"
            generate(raw, scale=scale, seed=42)
            print(f"\nscale factor {scale:g} (input {raw})")
            duck = print_runs("duckdb", [one_run(raw, []) for _ in range(args.repeat)])
            pg_args = ["--engine", "postgres", "--database-url", url, "--rebuild"]
            pg = print_runs("postgres", [one_run(raw, pg_args) for _ in range(args.repeat)])
            for label, best in (("duckdb", duck), ("postgres", pg)):
                seconds, rows = best["steps"]["ingest"]
                print(f"  {label:<9} ingest {rows:,} rows at {rows / seconds:,.0f} rows/s")
            rows, seconds = copy_throughput(url, raw)
            print(f"  postgres  COPY alone {rows:,} rows at {rows / seconds:,.0f} rows/s")
            print(
                f"  end to end: duckdb {duck['wall']:.2f} s, postgres {pg['wall']:.2f} s "
                f"({pg['wall'] / duck['wall']:.1f}x)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
