"""CPU seconds of each read the analytics and dashboard steps make, on a published data folder.

    .venv/bin/python bench/bench_reads.py /tmp/cartwheel-bench-one-more-day/data-one-more
    .venv/bin/python bench/bench_reads.py DATA_DIR --repeat 5

Opens the folder's catalog read-only and runs, `--repeat` times each, the ten analytics
queries, the forecast's daily series, and the dashboard's parts (its temporary tables,
its nine queries, the quality and pipeline reads), as the steps run them. CPU is user +
system of this process (DuckDB's threads included), median of the repeats. The machine
may be shared: compare CPU seconds measured back to back.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

from cartwheel.analytics.forecast import daily_revenue
from cartwheel.analytics.runner import QUERIES
from cartwheel.dashboard import data as dashboard
from cartwheel.dashboard.ops import pipeline_data, quality_data
from cartwheel.engines.duckdb import DuckDBEngine
from cartwheel.models import load_models, render


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(work: Callable[[], object], repeat: int) -> float:
    """Median CPU seconds of `repeat` calls of `work`."""
    times = []
    for _ in range(repeat):
        began = cpu_seconds()
        work()
        times.append(cpu_seconds() - began)
    return statistics.median(times)


def dashboard_reads(engine: DuckDBEngine, folders: tuple[Path, ...]) -> dict[str, Callable]:
    """The dashboard step's reads, one callable each, in the order it runs them."""
    sums = dashboard.SUMS if dashboard.sums_apply(engine) else None
    if sums is None:
        raise SystemExit("the monthly sums do not answer here: the dashboard reads every line")

    def temporary_tables() -> None:
        for table, model in dashboard.TEMPORARY.items():
            engine.execute(f"drop table if exists {table}")
            engine.execute(f"create temporary table {table} as {dashboard._sql(model, sums)}")

    reads: dict[str, Callable] = {"dashboard temporary tables": temporary_tables}
    for name in dashboard.QUERIES:
        sql = dashboard._sql(name, sums)
        reads[f"dashboard {name}"] = lambda sql=sql: engine.query_arrow(sql)
    reads["dashboard quality"] = lambda: quality_data(engine, folders)
    reads["dashboard pipeline"] = lambda: pipeline_data(engine, folders, None)
    reads["dashboard forecast series"] = lambda: daily_revenue(engine)
    return reads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine = DuckDBEngine(str(args.data_dir / "cartwheel.duckdb"), read_only=True)
    models = {model.name: model for model in load_models("analytics")}
    analytics = {name: render(models[name], engine) for name in QUERIES}
    reads: dict[str, Callable] = {
        name: (lambda sql=sql: engine.query_arrow(sql)) for name, sql in analytics.items()
    }
    reads["forecast series"] = lambda: daily_revenue(engine)
    reads |= dashboard_reads(engine, (args.data_dir, args.data_dir / "analytics"))
    total = 0.0
    for name, work in reads.items():
        seconds = measure(work, args.repeat)
        total += seconds
        print(f"{name:<40} {seconds:>7.3f} CPU s")
    print(f"{'all reads':<40} {total:>7.3f} CPU s")
    engine.close()


if __name__ == "__main__":
    sys.exit(main())
