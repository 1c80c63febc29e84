"""DuckDB next to Spark (local mode) on the same generated input: wall time and peak memory.

    .venv/bin/python bench/bench_spark.py                  # scale factors 10 and 100
    .venv/bin/python bench/bench_spark.py --scales 10 --master 'local[2]'

For each scale factor the raw files are generated once, then `cartwheel run --input` runs
in a fresh process and data folder per engine. Wall time includes process start-up (and
for Spark the JVM's); CPU seconds and peak memory (the largest summed resident set) are
those of the process tree (Python plus, for Spark, its JVM), sampled every 0.2 s from
/proc; the step times are the run's own report's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CARTWHEEL = [sys.executable, "-m", "cartwheel.cli"]
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def _tree(root: int) -> dict[int, tuple[int, int]]:
    """{pid: (resident bytes, CPU clock ticks)} of `root` and its descendants (/proc)."""
    children: dict[int, list[int]] = {}
    usage: dict[int, tuple[int, int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(pid)
        usage[pid] = (int(fields[21]) * PAGE, int(fields[11]) + int(fields[12]))
    found, stack = {}, [root]
    while stack:
        pid = stack.pop()
        if pid in usage:
            found[pid] = usage[pid]
        stack.extend(children.get(pid, []))
    return found


def timed(command: list[str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, peak resident bytes) of one command's process tree
    (Python plus, for Spark, its JVM); sampled every 0.2 s."""
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak, ticks = 0, {}
    while process.poll() is None:
        tree = _tree(process.pid)
        peak = max(peak, sum(rss for rss, _ in tree.values()))
        ticks.update({pid: cpu for pid, (_, cpu) in tree.items()})
        time.sleep(0.2)
    wall = time.perf_counter() - began
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr.read().decode()[-2000:]}")
    return wall, sum(ticks.values()) / TICKS, peak


def step_seconds(data_dir: Path) -> dict[str, float]:
    """Each step's seconds from the run's own report."""
    report = json.loads((data_dir / "pipeline_execution_report.json").read_text())
    return {name: step["duration_seconds"] for name, step in report["steps_executed"].items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[10, 100])
    parser.add_argument("--master", default="local[*]", help="Spark master for the Spark runs")
    parser.add_argument("--engines", nargs="+", choices=("duckdb", "spark"),
                        default=["duckdb", "spark"])  # fmt: skip
    args = parser.parse_args()

    print(f"{'scale':>6} {'engine':<8} {'wall s':>8} {'CPU s':>8} {'peak MiB':>9}  steps (s)")
    for scale in args.scales:
        work = Path(tempfile.mkdtemp(prefix=f"cartwheel-spark-bench-sf{scale:g}-"))
        try:
            raw = work / "raw"
            subprocess.run(
                [*CARTWHEEL, "generate", "--scale", f"{scale:g}", "--out", str(raw)],
                check=True,
                capture_output=True,
            )
            results = {}
            options = {"duckdb": [], "spark": ["--engine", "spark", "--spark-master", args.master]}
            for engine in args.engines:
                extra = options[engine]
                command = [*CARTWHEEL, "run", "--input", str(raw), "--data-dir",
                           str(work / engine), *extra]  # fmt: skip
                results[engine] = timed(command)
                wall, cpu, peak = results[engine]
                steps = " ".join(f"{k} {v:.1f}" for k, v in step_seconds(work / engine).items())
                print(f"{scale:>6g} {engine:<8} {wall:>8.1f} {cpu:>8.1f} {peak / 2**20:>9.0f}  "
                      f"{steps}", flush=True)  # fmt: skip
            if len(results) == 2:
                factor = results["spark"][0] / results["duckdb"][0]
                cpu_factor = results["spark"][1] / results["duckdb"][1]
                print(f"{scale:>6g} spark/duckdb: wall {factor:.1f}x, CPU {cpu_factor:.1f}x")
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
