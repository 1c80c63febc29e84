"""Time `cartwheel run` end to end, step by step, at several scale factors.

    .venv/bin/python bench/run_bench.py            # scale factors 1 and 10
    .venv/bin/python bench/run_bench.py --scales 1 10 100 --repeat 3
    .venv/bin/python bench/run_bench.py --scales 1 --repeat 5 --before /tmp/main/src

Each run is a fresh `cartwheel run` in a new process and data folder (the wall time includes
Python start-up and imports); step times come from pipeline_execution_report.json. The best
of --repeat runs is shown, then the median wall and CPU seconds (user + system of the
process and its threads) over the runs and the load average before the first: on a
shared machine the CPU seconds are the figure to compare. With --before, another copy of
cartwheel's source (e.g. `git archive main src | tar -x -C /tmp/main`) runs in turn with
this one, one run of each alternately, and both medians are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CARTWHEEL = [sys.executable, "-m", "cartwheel"]


def one_run(scale: float, extra: list[str], source: Path | None = None) -> dict:
    """One `cartwheel run` in a fresh data folder; `source`: run that copy's package."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"cartwheel-bench-sf{scale:g}-"))
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = str(source)
    try:
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        subprocess.run(
            [*CARTWHEEL, "run", "--scale", f"{scale:g}", "--data-dir", str(data_dir), *extra],
            check=True,
            capture_output=True,
            env=env,
        )
        wall = time.perf_counter() - began
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - used.ru_utime + after.ru_stime - used.ru_stime
        report = json.loads((data_dir / "pipeline_execution_report.json").read_text())
        steps = {
            name: (step["duration_seconds"], step["records_processed"])
            for name, step in report["steps_executed"].items()
        }
        return {"wall": wall, "cpu": cpu, "steps": steps}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def print_medians(label: str, runs: list[dict], load: float) -> None:
    wall = statistics.median(r["wall"] for r in runs)
    cpu = statistics.median(r["cpu"] for r in runs)
    print(
        f"{label}median of {len(runs)}: wall {wall:.3f} s, CPU {cpu:.3f} s "
        f"(load average {load:.2f} before the first run)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 10])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--before", type=Path, help="another cartwheel source folder to run in turn with this one"
    )
    parser.add_argument("extra", nargs="*", help="extra arguments for `cartwheel run`")
    args = parser.parse_args()

    for scale in args.scales:
        load = os.getloadavg()[0]
        runs, before = [], []
        for _ in range(args.repeat):
            if args.before is not None:
                before.append(one_run(scale, args.extra, args.before))
            runs.append(one_run(scale, args.extra))
        best = min(runs, key=lambda r: r["wall"])
        print(f"\nscale factor {scale:g}: best of {args.repeat} runs")
        print(f"{'step':<12} {'rows':>12} {'seconds':>9}")
        for name, (seconds, rows) in best["steps"].items():
            print(f"{name:<12} {rows:>12,} {seconds:>9.3f}")
        step_total = sum(seconds for seconds, _ in best["steps"].values())
        print(f"{'steps total':<12} {'':>12} {step_total:>9.3f}")
        print(f"{'wall clock':<12} {'':>12} {best['wall']:>9.3f}   (process start to exit)")
        if before:
            print_medians(f"before ({args.before}): ", before, load)
            print_medians("this source: ", runs, load)
        else:
            print_medians("", runs, load)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\npeak RSS of any run: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
