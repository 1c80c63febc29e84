"""DuckDB next to Spark (local mode) on the same generated input: wall time and peak memory.

    .venv/bin/python bench/bench_spark.py                  # scale factors 10 and 100
    .venv/bin/python bench/bench_spark.py --scales 10 --master 'local[2]'

For each scale factor the raw files are generated once, then `cartwheel run --input` runs
in a fresh process and data folder per engine. Wall time includes process start-up (and
for Spark the JVM's); peak memory is the largest summed resident set of the process tree
(Python plus, for Spark, its JVM), sampled every 0.2 s from /proc.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CARTWHEEL = [sys.executable, "-m", "cartwheel.cli"]


def _tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
        except OSError:
            continue
        pid = int(status.parent.name)
        children.setdefault(int(fields["PPid"]), []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def timed(command: list[str]) -> tuple[float, int]:
    """(wall seconds, peak resident bytes of the process tree) of one command."""
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss(process.pid))
        time.sleep(0.2)
    wall = time.perf_counter() - began
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr.read().decode()[-2000:]}")
    return wall, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[10, 100])
    parser.add_argument("--master", default="local[*]", help="Spark master for the Spark runs")
    args = parser.parse_args()

    print(f"{'scale':>6} {'engine':<8} {'wall s':>8} {'peak MiB':>9}")
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
            for engine, extra in (
                ("duckdb", []),
                ("spark", ["--engine", "spark", "--spark-master", args.master]),
            ):
                command = [*CARTWHEEL, "run", "--input", str(raw), "--data-dir",
                           str(work / engine), *extra]  # fmt: skip
                results[engine] = timed(command)
                wall, peak = results[engine]
                print(f"{scale:>6g} {engine:<8} {wall:>8.1f} {peak / 2**20:>9.0f}", flush=True)
            factor = results["spark"][0] / results["duckdb"][0]
            print(f"{scale:>6g} spark/duckdb wall time: {factor:.1f}x", flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
