"""Incremental loads: a long daily history loaded from scratch, then one more day.

    .venv/bin/python bench/bench_incremental.py                      # 365 days at SF 10
    .venv/bin/python bench/bench_incremental.py --days 30 --scale 1  # a quick look

Generates `--days` daily batches (cached in --work, reused when present) and the day
after them separately, then times `cartwheel run --input` processes: (1) the whole
history from scratch on a fresh data folder (kept as a snapshot; `--reuse` skips this
step when the snapshot exists), (2) the same input again (nothing pending), (3) the next
day's folder added (one new batch), `--repeat` times from the snapshot, best shown. Wall
times include Python start-up and imports; step times come from
pipeline_execution_report.json. The cost of one more day should not depend on the length
of the history, only on the day.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

CARTWHEEL = [sys.executable, "-m", "cartwheel.cli"]


def cartwheel(*args: str) -> float:
    began = time.perf_counter()
    subprocess.run([*CARTWHEEL, *args], check=True, capture_output=True)
    return time.perf_counter() - began


def generate(work: Path, scale: float, start: date, days: int) -> tuple[Path, Path]:
    """The history folder and the next day's folder (generated once, then reused)."""
    history = work / f"history-sf{scale:g}-{start}-{days}d"
    extra = work / f"next-day-sf{scale:g}-{start}-{days}d"
    next_day = (start + timedelta(days=days)).isoformat()
    if not (history / "generation_metadata.json").exists():
        shutil.rmtree(history, ignore_errors=True)
        seconds = cartwheel(
            "generate", "--scale", f"{scale:g}", "--start", start.isoformat(),
            "--days", str(days), "--out", str(history),
        )  # fmt: skip
        print(f"generated {days} days at SF {scale:g} in {seconds:.1f} s -> {history}")
    if not (extra / next_day).is_dir():
        shutil.rmtree(extra, ignore_errors=True)
        cartwheel("generate", "--scale", f"{scale:g}", "--day", next_day, "--out", str(extra))
    return history, extra / next_day


def timed_run(input_dir: Path, data_dir: Path) -> dict:
    wall = cartwheel("run", "--input", str(input_dir), "--data-dir", str(data_dir))
    report = json.loads((data_dir / "pipeline_execution_report.json").read_text())
    steps = {
        name: (step["duration_seconds"], step["records_processed"])
        for name, step in report["steps_executed"].items()
    }
    return {"wall": wall, "steps": steps}


def show(title: str, run: dict) -> None:
    print(f"\n{title}")
    print(f"{'step':<12} {'rows':>12} {'seconds':>9}")
    for name, (seconds, rows) in run["steps"].items():
        print(f"{name:<12} {rows:>12,} {seconds:>9.3f}")
    print(f"{'wall clock':<12} {'':>12} {run['wall']:>9.3f}   (process start to exit)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1))
    parser.add_argument("--work", type=Path, default=Path("/tmp/cartwheel-bench-incremental"))
    parser.add_argument("--repeat", type=int, default=3, help="runs of the one more day")
    parser.add_argument("--reuse", action="store_true", help="keep the loaded history")
    args = parser.parse_args()

    history, next_day = generate(args.work, args.scale, args.start, args.days)
    input_dir, data_dir = args.work / "input", args.work / "data"
    loaded = args.work / "data-history"  # the warehouse after the history, kept
    full = None
    if not (args.reuse and loaded.is_dir()):
        for folder in (input_dir, data_dir, loaded):
            shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(history, input_dir)
        full = timed_run(input_dir, data_dir)
        show(f"{args.days} daily batches at SF {args.scale:g}, from scratch", full)
        shutil.copytree(data_dir, loaded)
        idle = timed_run(input_dir, data_dir)
        show("the same input again (no batch pending)", idle)

    runs = []
    for _ in range(args.repeat):
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.copytree(loaded, data_dir)
        shutil.rmtree(input_dir / next_day.name, ignore_errors=True)
        runs.append(_one_more(input_dir, data_dir, next_day))
    one = min(runs, key=lambda r: r["wall"])
    show(
        f"one more day ({next_day.name}) on top of the {args.days}-day history, "
        f"best of {args.repeat}",
        one,
    )

    size = (loaded / "cartwheel.duckdb").stat().st_size / 2**20
    print(f"\ndatabase file after the history: {size:,.0f} MB")
    history_text = f"history {full['wall']:.1f} s ({args.days} batches), " if full else ""
    print(
        f"summary: {history_text}one more day {one['wall']:.2f} s "
        f"(warehouse step {one['steps']['warehouse'][0]:.3f} s)"
    )


def _one_more(input_dir: Path, data_dir: Path, next_day: Path) -> dict:
    shutil.copytree(next_day, input_dir / next_day.name)
    try:
        return timed_run(input_dir, data_dir)
    finally:
        shutil.rmtree(input_dir / next_day.name, ignore_errors=True)


if __name__ == "__main__":
    main()
