"""What atomic publish costs per run: opening the run's database and the publish.

    .venv/bin/python bench/bench_ops.py                 # scale factors 1 and 10
    .venv/bin/python bench/bench_ops.py --scales 1 10 --repeat 3

For each scale factor: one `cartwheel run` builds the warehouse, then --repeat more runs
in the same data folder. Their JSON-lines logs give the time to open the run's database
(`workspace_opened`: DuckDB's working database, rebuilt from the published catalog only
when it may differ from it) and the publish time (`published`: checkpoint, the next
catalog and its segments, fsync, renames); the wall clock is the whole process. The best
of the repeats is shown. For one more day on a long history, see bench_one_more_day.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CARTWHEEL = [sys.executable, "-m", "cartwheel.cli"]


def events(log: Path) -> dict[str, float]:
    found = {}
    for line in log.read_text().splitlines():
        entry = json.loads(line)
        if entry.get("event") in ("workspace_opened", "published"):
            found[entry["event"]] = entry["data"]["seconds"]
    return found


def run(data_dir: Path, scale: float) -> dict[str, float]:
    began = time.perf_counter()
    subprocess.run(
        [*CARTWHEEL, "run", "--scale", f"{scale:g}", "--data-dir", str(data_dir)],
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - began
    report = json.loads((data_dir / "pipeline_execution_report.json").read_text())
    return {
        "wall": wall,
        "steps": report["total_duration_seconds"],
        **events(Path(report["log_file"])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 10])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'scale':>6} {'db MB':>8} {'open s':>8} {'publish s':>10} {'run s':>8} {'wall s':>8}")
    for scale in args.scales:
        data_dir = Path(tempfile.mkdtemp(prefix=f"cartwheel-ops-sf{scale:g}-"))
        try:
            run(data_dir, scale)  # first run: nothing to copy yet
            runs = [run(data_dir, scale) for _ in range(args.repeat)]
            size = (data_dir / "cartwheel.duckdb").stat().st_size / 2**20
            best = min(runs, key=lambda r: r["wall"])
            print(
                f"{scale:>6g} {size:>8.1f} {best['workspace_opened']:>8.3f} "
                f"{best['published']:>10.3f} {best['steps']:>8.3f} {best['wall']:>8.3f}"
            )
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
