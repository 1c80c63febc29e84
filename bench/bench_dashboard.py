"""Dashboard size, build time and load time in headless Chromium, per data folder.

    .venv/bin/python bench/bench_dashboard.py --data-dirs /tmp/sf1 /tmp/sf100
    .venv/bin/python bench/bench_dashboard.py --scales 1 100      # builds each folder first

A folder without a warehouse is built with `cartwheel run --scale N` (SF100 takes about a
minute on two cores). For each folder: the dashboard is rebuilt from the warehouse (best
of --repeat), then Chromium loads the file --repeat times (median): `load` is the page's
load event, `ready` is when every chart of the first page is drawn; `filter` is the time
to apply a category filter and redraw that page; `pages` the time to draw all six pages.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cartwheel.dashboard import build_dashboard
from cartwheel.engines.duckdb import DuckDBEngine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the browser helper lives with the tests

from tests.browser import Browser  # noqa: E402


def ensure_warehouse(scale: float) -> Path:
    data_dir = Path(tempfile.gettempdir()) / f"cartwheel-bench-dashboard-sf{scale:g}"
    if not (data_dir / "cartwheel.duckdb").exists():
        print(f"building SF{scale:g} in {data_dir} ...", flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "cartwheel.cli",
                "run",
                "--scale",
                f"{scale:g}",
                "--data-dir",
                str(data_dir),
            ],
            check=True,
            capture_output=True,
        )
    return data_dir


def measure(data_dir: Path, repeat: int) -> dict:
    out = Path(tempfile.mkdtemp(prefix="cartwheel-bench-dashboard-"))
    builds = []
    for _ in range(repeat):
        engine = DuckDBEngine(str(data_dir / "cartwheel.duckdb"))
        began = time.perf_counter()
        result = build_dashboard(engine, out, report_dirs=(data_dir,))
        builds.append(time.perf_counter() - began)
        engine.close()
    facts = DuckDBEngine(str(data_dir / "cartwheel.duckdb"))
    lines = facts.count("warehouse.fact_sales")
    facts.close()

    loads, readies, filters, pages = [], [], [], []
    with Browser() as browser:
        for _ in range(repeat):
            browser.open("about:blank")
            began = time.perf_counter()
            browser.open(result.path.as_uri())
            browser.wait_for("window.cartwheel && window.cartwheel.ready")
            readies.append((time.perf_counter() - began) * 1000)
            loads.append(
                browser.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
            )
            filters.append(
                browser.evaluate(
                    """(() => { const s = document.getElementById('f-category');
                    const t = performance.now(); s.value = '0';
                    s.dispatchEvent(new Event('change')); return performance.now() - t; })()"""
                )
            )
            pages.append(
                browser.evaluate(
                    """(() => { const t = performance.now();
                    document.querySelectorAll('#tabs button').forEach((b) => b.click());
                    return performance.now() - t; })()"""
                )
            )
        errors = browser.console_errors()
    return {
        "order_lines": lines,
        "file_bytes": result.bytes,
        "data_bytes": result.data_bytes,
        "build_s": min(builds),
        "load_ms": statistics.median(loads),
        "ready_ms": statistics.median(readies),
        "filter_ms": statistics.median(filters),
        "all_pages_ms": statistics.median(pages),
        "console_errors": len(errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dirs", type=Path, nargs="*", default=[])
    parser.add_argument("--scales", type=float, nargs="*", default=[])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folders = [*args.data_dirs, *(ensure_warehouse(s) for s in args.scales)]
    if not folders:
        folders = [ensure_warehouse(1)]
    header = (
        f"{'data folder':<40} {'lines':>10} {'file KB':>8} {'data KB':>8} {'build s':>8} "
        f"{'load ms':>8} {'ready ms':>9} {'filter ms':>9} {'6 pages ms':>10} {'errors':>6}"
    )
    print(header)
    for folder in folders:
        m = measure(folder, args.repeat)
        print(
            f"{str(folder):<40} {m['order_lines']:>10,} {m['file_bytes'] / 1024:>8.0f} "
            f"{m['data_bytes'] / 1024:>8.0f} {m['build_s']:>8.2f} {m['load_ms']:>8.0f} "
            f"{m['ready_ms']:>9.0f} {m['filter_ms']:>9.1f} {m['all_pages_ms']:>10.0f} "
            f"{m['console_errors']:>6}",
            flush=True,
        )


if __name__ == "__main__":
    main()
