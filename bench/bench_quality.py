"""Time ingest (robust CSV reading) and the quality step on clean and defective data.

    .venv/bin/python bench/bench_quality.py --scale 1 --scale 10 --defect-rate 0 --defect-rate 0.02

Prints one line per (scale, defect rate): seconds for ingest, validation + quarantine +
checks, rows in, rows quarantined, and the score.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from cartwheel.engines.duckdb import DuckDBEngine
from cartwheel.generate import generate
from cartwheel.ingest import ingest
from cartwheel.quality.report import run_quality


def bench(scale: float, rate: float, root: Path) -> dict:
    raw = root / f"raw-{scale}-{rate}"
    generate(raw, scale=scale, defect_rate=rate)
    engine = DuckDBEngine(str(root / f"bench-{scale}-{rate}.duckdb"))
    began = time.perf_counter()
    ingest(engine, raw, batch_id="bench", run_id="bench")
    ingested = time.perf_counter()
    outcome = run_quality(engine, "bench", min_score=0.0, input_dir=raw)
    checked = time.perf_counter()
    engine.close()
    return {
        "scale": scale,
        "defect_rate": rate,
        "ingest_s": round(ingested - began, 3),
        "quality_s": round(checked - ingested, 3),
        "rows_in": sum(r["rows_in"] for r in outcome.conservation),
        "quarantined": sum(r["rows_quarantined"] for r in outcome.conservation),
        "score": outcome.report["overall_quality_score"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, action="append")
    parser.add_argument("--defect-rate", type=float, action="append")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cartwheel-bench-") as folder:
        for scale in args.scale or [1.0]:
            for rate in args.defect_rate or [0.0, 0.02]:
                print(bench(scale, rate, Path(folder)), flush=True)


if __name__ == "__main__":
    main()
