"""Generator throughput and peak memory, next to the vectorised ceiling.

    .venv/bin/python bench/bench_generate.py                     # scale factors 1, 100, 1000
    .venv/bin/python bench/bench_generate.py --scales 1 10 --formats parquet csv --layouts daily

Each measurement runs in a fresh process (peak RSS is that process's own). "ceiling" writes
the same numbers of transaction and item rows as numpy random integer columns straight to
Parquet in 1M-row chunks — no ids, text, money or logic — so the gap to it is the price of
the generator's realism. CPU seconds (user + system, all threads) are shown next to wall
seconds because the machine is shared: items per CPU-second is the steadier number, wall
throughput on two otherwise idle cores is at most twice it. The load average at the start
of each row says how busy the machine was.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def _usage() -> tuple[float, float]:
    """CPU seconds so far (user + system, all threads) and peak RSS in MB."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_maxrss / 1024


def child_generate(scale: float, file_format: str, layout: str, out: Path) -> dict:
    from cartwheel.generate import generate, generate_batches

    cpu0, _ = _usage()  # imports are not the generator's work
    began = time.perf_counter()
    if layout == "daily":
        result = generate_batches(out, scale=scale, file_format=file_format)
    else:
        result = generate(out, scale=scale, file_format=file_format)
    wall = time.perf_counter() - began
    cpu, rss = _usage()
    return {
        "items": result.record_counts["transaction_items"],
        "wall": wall,
        "cpu": cpu,
        "rss": rss,
    }


def child_ceiling(scale: float, out: Path) -> dict:
    from cartwheel.generate import Profile

    counts = Profile().counts(scale)
    rng = np.random.default_rng(0)
    cpu0, _ = _usage()
    began = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (
        ("transactions", counts["transactions"]),
        ("items", counts["transaction_items"]),
    ):
        writer = None
        for lo in range(0, rows, 1_000_000):
            n = min(1_000_000, rows - lo)
            table = pa.table({f"c{i}": rng.integers(0, 1_000_000, n) for i in range(7)})
            if writer is None:
                writer = pq.ParquetWriter(out / f"{name}.parquet", table.schema)
            writer.write_table(table)
        if writer is not None:
            writer.close()
    wall = time.perf_counter() - began
    cpu, rss = _usage()
    return {"items": counts["transaction_items"], "wall": wall, "cpu": cpu - cpu0, "rss": rss}


def measure(args: list[str]) -> dict:
    out = Path(tempfile.mkdtemp(prefix="cartwheel-bench-gen-"))
    try:
        load = os.getloadavg()[0]
        done = subprocess.run(
            [sys.executable, __file__, "--child", *args, "--out", str(out / "data")],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["load"] = load
        return result
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--formats", nargs="+", default=["parquet"], choices=["parquet", "csv"])
    parser.add_argument("--layouts", nargs="+", default=["one-shot"], choices=["one-shot", "daily"])
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child is not None:
        kind, scale, *rest = args.child
        if kind == "ceiling":
            result = child_ceiling(float(scale), args.out)
        else:
            result = child_generate(float(scale), rest[0], rest[1], args.out)
        print(json.dumps(result))
        return

    print(
        "| scale | what | items | wall s | items/s (wall) | CPU s | items per CPU-s "
        "| peak RSS MB | load avg |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for scale in args.scales:
        runs = [("ceiling (numpy -> Parquet)", ["ceiling", f"{scale:g}"])]
        for layout in args.layouts:
            for fmt in args.formats:
                runs.append((f"cartwheel {layout} {fmt}", ["generate", f"{scale:g}", fmt, layout]))
        for label, child in runs:
            r = measure(child)
            print(
                f"| {scale:g} | {label} | {r['items']:,} | {r['wall']:.2f} "
                f"| {r['items'] / r['wall']:,.0f} | {r['cpu']:.2f} | {r['items'] / r['cpu']:,.0f} "
                f"| {r['rss']:,.0f} | {r['load']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
