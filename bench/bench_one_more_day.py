"""One more day into a long history, against a rebuild of that history.

    .venv/bin/python bench/bench_one_more_day.py                        # 365 days at SF 100
    .venv/bin/python bench/bench_one_more_day.py --scale 10 --repeat 3

Generates `--days` + 1 daily batches as Parquet (cached in --work). The *rebuild* is
`cartwheel run --input` over the first `--days` days concatenated into one folder (the
same rows in one batch); the *one more day* is `cartwheel run --input` over a folder
holding only the next day's batch, on a copy of the rebuilt data folder (the copy is not
timed), `--repeat` times. Each run is measured in CPU seconds (user + system, all
threads), wall seconds and megabytes written to files (a file copy counts in full), CPU
per step as well (sampled from /proc and attributed by the run's log, see
scale_ladder.py): "start" is process start-up and imports; the publish is counted in the
last step's line, "publish" is what follows it (the run's log and exit). The machine may
be shared: compare CPU seconds and megabytes.
Results are appended to bench/results/one_more_day.jsonl.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
from scale_ladder import CARTWHEEL, measured

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "one_more_day.jsonl"
ENTITIES = ("customers", "products", "transactions", "transaction_items")


def prepare(work: Path, scale: float, start: date, days: int) -> tuple[Path, Path]:
    """The history as one folder, and a folder holding only the next day's batch."""
    daily = work / f"days-sf{scale:g}-{start}-{days + 1}"
    if not (daily / "generation_metadata.json").exists():
        shutil.rmtree(daily, ignore_errors=True)
        subprocess.run(
            [*CARTWHEEL, "generate", "--scale", f"{scale:g}", "--start", start.isoformat(),
             "--days", str(days + 1), "--out", str(daily), "--format", "parquet"],
            check=True, capture_output=True,
        )  # fmt: skip
    history = work / f"history-sf{scale:g}-{start}-{days}d"
    next_day = (start + timedelta(days=days)).isoformat()
    if not (history / "transaction_items.parquet").exists():
        history.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect()
        for entity in ENTITIES:
            files = [str(daily / (start + timedelta(d)).isoformat() / f"{entity}.parquet")
                     for d in range(days)]  # fmt: skip
            # Day order, then each day's own row order: the batches one after another.
            con.execute(
                f"copy (select * exclude (filename, file_row_number) from read_parquet(?, "
                f"filename = true, file_row_number = true) order by filename, file_row_number) "
                f"to '{history / entity}.parquet' (format parquet)",
                [files],
            )
        con.close()
    extra = work / f"next-day-sf{scale:g}-{next_day}"
    if not (extra / next_day).is_dir():
        shutil.copytree(daily / next_day, extra / next_day)
    return history, extra


def run(input_dir: Path, data_dir: Path) -> dict:
    """One `cartwheel run --input`, measured, with its report's step rows."""
    result = measured(["run", "--input", str(input_dir), "--data-dir", str(data_dir)],
                      data_dir / "logs")  # fmt: skip
    report = json.loads((data_dir / "pipeline_execution_report.json").read_text())
    result["rows"] = {
        name: step["records_processed"] for name, step in report["steps_executed"].items()
    }
    return result


def show(title: str, result: dict) -> None:
    print(
        f"\n{title}: {result['wall']:.2f} s wall, {result['cpu']:.2f} CPU s, "
        f"{result['written_mb']:,.0f} MB written"
    )
    for step, seconds in result["step_cpu"].items():
        print(f"  {step:<12} {seconds:>7.2f} CPU s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=100)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1))
    parser.add_argument("--work", type=Path, default=Path("/tmp/cartwheel-bench-one-more-day"))
    parser.add_argument("--repeat", type=int, default=3, help="runs of the one more day")
    parser.add_argument("--label", default="", help="a name for this code version")
    args = parser.parse_args()

    history, next_day = prepare(args.work, args.scale, args.start, args.days)
    rebuilt = args.work / "data-rebuilt"
    shutil.rmtree(rebuilt, ignore_errors=True)
    rebuild = run(history, rebuilt)
    show(f"rebuild: {args.days} days at SF {args.scale:g} in one batch", rebuild)
    days = []
    for _ in range(args.repeat):
        data = args.work / "data-one-more"
        shutil.rmtree(data, ignore_errors=True)
        shutil.copytree(rebuilt, data)
        days.append(run(next_day, data))
        show("one more day", days[-1])
    cpu = statistics.median(day["cpu"] for day in days)
    wall = statistics.median(day["wall"] for day in days)
    written = statistics.median(day["written_mb"] for day in days)
    files = sum(p.stat().st_size for p in rebuilt.rglob("*") if p.is_file()) / 2**20
    print(
        f"\none more day (median of {len(days)}): {cpu:.2f} CPU s = "
        f"{100 * cpu / rebuild['cpu']:.1f}% of the rebuild's {rebuild['cpu']:.2f} CPU s; "
        f"{wall:.2f} s wall = {100 * wall / rebuild['wall']:.1f}% of {rebuild['wall']:.2f} s; "
        f"{written:,.0f} MB written (rebuild: {rebuild['written_mb']:,.0f} MB); "
        f"data folder {files:,.0f} MB"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as out:
        entry = {
            "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "label": args.label,
            "scale": args.scale,
            "days": args.days,
            "rebuild": rebuild,
            "one_more_day": days,
            "data_folder_mb": round(files, 1),
        }
        out.write(json.dumps(entry) + "\n")


if __name__ == "__main__":
    sys.exit(main())
