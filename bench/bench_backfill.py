"""A backfill: N daily batches loaded from scratch in one run, against the same rows as
one batch.

    .venv/bin/python bench/bench_backfill.py                          # 365 days at SF 10
    .venv/bin/python bench/bench_backfill.py --days 60 --scale 10     # a quicker look

Generates the daily batches as Parquet (cached in --work, shared with
bench_one_more_day.py), then measures two `cartwheel run --input` processes on fresh data
folders: over the folder of daily batches (each batch its own ingest, quality,
production and warehouse pass), and over the same days concatenated into one folder.
CPU seconds (user + system, all threads), wall seconds and megabytes written; the ratio
of the two is the backfill's overhead. Results are appended to
bench/results/backfill.jsonl.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from datetime import date, timedelta
from pathlib import Path

from bench_one_more_day import ROOT, prepare, run, show

RESULTS = ROOT / "bench" / "results" / "backfill.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1))
    parser.add_argument("--work", type=Path, default=Path("/tmp/cartwheel-bench-one-more-day"))
    parser.add_argument("--label", default="", help="a name for this code version")
    args = parser.parse_args()

    one_batch, _ = prepare(args.work, args.scale, args.start, args.days)
    daily = args.work / f"days-sf{args.scale:g}-{args.start}-{args.days + 1}"
    batches = args.work / f"backfill-sf{args.scale:g}-{args.start}-{args.days}d"
    if not batches.is_dir():
        batches.mkdir()
        for offset in range(args.days):
            day = (args.start + timedelta(days=offset)).isoformat()
            (batches / day).symlink_to(daily / day, target_is_directory=True)
    results = {}
    for name, input_dir in (("one batch", one_batch), ("daily batches", batches)):
        data = args.work / f"data-backfill-{name.replace(' ', '-')}"
        shutil.rmtree(data, ignore_errors=True)
        results[name] = run(input_dir, data)
        show(f"{args.days} days at SF {args.scale:g}, {name}", results[name])
    one, daily_run = results["one batch"], results["daily batches"]
    print(
        f"\nbackfill of {args.days} daily batches: {daily_run['cpu']:.1f} CPU s = "
        f"{daily_run['cpu'] / one['cpu']:.1f}x the one batch's {one['cpu']:.1f} CPU s; "
        f"{daily_run['wall']:.1f} s wall = {daily_run['wall'] / one['wall']:.1f}x"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as out:
        entry = {
            "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "label": args.label,
            "scale": args.scale,
            "days": args.days,
            **results,
        }
        out.write(json.dumps(entry) + "\n")


if __name__ == "__main__":
    main()
