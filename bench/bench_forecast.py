"""Revenue forecast: the fit time of the backtest plus every series (a fresh process each
time), and the backtest's sMAPE against seasonal-naive.

    .venv/bin/python bench/bench_forecast.py --data-dir /tmp/sf1     # a folder cartwheel built
    .venv/bin/python bench/bench_forecast.py --repeat 5

Without --data-dir a scale-factor-1 warehouse is built first (`cartwheel run`).
Each repeat runs in a new interpreter, so the first fit pays BLAS's start as a run does.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

MEASURE = """
import json, sys
from cartwheel.analytics.forecast import revenue_forecast
from cartwheel.config import Settings
from cartwheel.engines import connect_reader
engine = connect_reader(Settings(data_dir=sys.argv[1]))
table, backtest = revenue_forecast(engine, int(sys.argv[2]))
print(json.dumps(backtest | {"rows": table.num_rows if table is not None else 0}))
"""


def ensure_warehouse() -> Path:
    data_dir = Path(tempfile.gettempdir()) / "cartwheel-bench-forecast-sf1"
    if not (data_dir / "cartwheel.duckdb").exists():
        print(f"building SF1 in {data_dir} ...", flush=True)
        subprocess.run(
            [sys.executable, "-m", "cartwheel.cli", "run", "--data-dir", str(data_dir)],
            check=True,
            capture_output=True,
        )
    return data_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="a folder `cartwheel run` built")
    parser.add_argument("--days", type=int, default=90, help="forecast horizon")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data_dir = args.data_dir or ensure_warehouse()
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", MEASURE, str(data_dir), str(args.days)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        for _ in range(args.repeat)
    ]
    last = runs[-1]
    print(f"model: {last['model']}")
    print(f"history {last['history_days']} days, {last['series']} series, {last['rows']} rows")
    print(f"backtest sMAPE {last['smape']} % vs seasonal-naive {last['seasonal_naive_smape']} %")
    values = [run["fit_seconds"] for run in runs]
    print(
        f"fit_seconds: median {statistics.median(values):.3f} (min {min(values):.3f}, "
        f"max {max(values):.3f}) over {len(values)}"
    )


if __name__ == "__main__":
    main()
