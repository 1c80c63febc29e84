"""Time `cartwheel import --preset shopify` on a synthetic Shopify-layout export.

    .venv/bin/python bench/bench_import.py              # 300,000 lines
    .venv/bin/python bench/bench_import.py --lines 1000000

Order fields only on an order's first line (3 lines per order), 20,000 customers, 997
SKUs, small fixed line discounts on 80 % of lines (the hard case for writing amounts
exactly: many lines need an adjusted unit price, which the summary counts). Prints wall
time and the import's CPU time: on the shared machine, wall time depends on the load.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from cartwheel.sqltext import string_literal

EXPORT_SQL = """
copy (
    select
        '#' || (1000 + i // 3) as "Name",
        'c' || ((i // 3) % 20000) || '@example.com' as "Email",
        '' as "Subtotal",
        strftime(timestamp '2024-01-01' + to_seconds(i // 3 * 60), '%Y-%m-%d %H:%M:%S')
            || ' -0500' as "Created at",
        1 + i % 4 as "Lineitem quantity",
        'Product ' || (i % 997) as "Lineitem name",
        cast(5 + (i * 7919) % 50000 / 100.0 as decimal(12, 2)) as "Lineitem price",
        'SKU-' || (i % 997) as "Lineitem sku",
        case when i % 3 = 0 then 'Name ' || (i % 20000) || ' Surname' else '' end
            as "Billing Name",
        case when i % 3 = 0 then 'City ' || (i % 50) else '' end as "Billing City",
        case when i % 3 = 0 then 'CA' else '' end as "Billing Province",
        case when i % 3 = 0 then 'US' else '' end as "Billing Country",
        '' as "Billing Phone", '' as "Phone", '' as "Shipping Phone", '' as "Shipping Name",
        '' as "Shipping City", '' as "Shipping Province", '' as "Shipping Country",
        '' as "Shipping Street", '' as "Shipping Zip",
        case when i % 3 = 0 then 'Shopify Payments' else '' end as "Payment Method",
        'Vendor ' || (i % 997 % 7) as "Vendor",  -- one vendor per SKU
        cast((i % 5) * 0.5 as decimal(12, 2)) as "Lineitem discount"
    from range({lines}) as t(i)
) to {path} (header)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=300_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cartwheel-bench-import-"))
    export = folder / "orders_export.csv"
    duckdb.connect().execute(
        EXPORT_SQL.format(lines=int(args.lines), path=string_literal(export))
    ).fetchall()
    began = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "cartwheel.cli",
            "import",
            str(export),
            "--preset",
            "shopify",
            "--out",
            str(folder / "raw"),
        ],
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - began
    summary = json.loads((folder / "raw" / "import_summary.json").read_text())
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    print(
        f"{args.lines:,} lines: {wall:.2f} s wall ({summary['seconds']:.2f} s import), "
        f"{cpu:.2f} s CPU (both cores; wall on a loaded shared machine is longer), "
        f"{args.lines / wall:,.0f} lines/s, peak RSS {peak:.0f} MB, "
        f"adjusted unit prices {summary['adjusted_unit_prices']:,}, "
        f"written {summary['written_total']} = export {summary['export_net_total']}"
    )
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
