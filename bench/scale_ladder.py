"""The scale ladder: `cartwheel generate` + `cartwheel run --input` per scale factor, each
step's wall time, rows/s and peak RSS, with a bare-DuckDB floor beside each.

    .venv/bin/python bench/scale_ladder.py --scales 1 10 100
    .venv/bin/python bench/scale_ladder.py --scales 1000 --memory-limit 4GB   # adds a rung
    .venv/bin/python bench/scale_ladder.py --scales 1000 --statements   # + each statement's cost
    .venv/bin/python bench/scale_ladder.py --report-only                       # rewrite docs

Results accumulate in bench/ladder-results.json (one entry per scale factor, the latest
run wins); the table and the SVG chart in docs/performance.md (between its ladder
markers) and docs/performance-ladder.svg are written from that file, so every number in
them is one a run produced.

Per step, RSS and CPU time are sampled from /proc every 50 ms and attributed to the step
the run's JSON-lines log says is running. The floor of a step is what bare DuckDB needs for the
same reads and writes, in a fresh database file, in this process:
  ingest      read the four raw files into tables
  quality     each table written again with a copy rank per key (the validated rows)
  production  write each table again, typed
  warehouse   join the lines to orders, products and customers into one wide table
  analytics   the ten reports' group-bys, each written to a CSV file
The run's own floor is the sum of these (the generator's is its files' write: see
bench_generate.py). CPU seconds (user + system, all threads) of the run and of the floor
are given too: on a shared machine they move less than wall time.
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
from collections.abc import Sequence
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "ladder-results.json"
DOC = ROOT / "docs" / "performance.md"
CHART = ROOT / "docs" / "performance-ladder.svg"
START, END = "<!-- ladder:start -->", "<!-- ladder:end -->"
CARTWHEEL = [sys.executable, "-m", "cartwheel"]
READ_FACTS = ("analytics", "dashboard")


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cpu_ticks(pid: int) -> int:
    """User + system CPU of a process so far, in clock ticks (all its threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _current_step(log_dir: Path, known: set[Path], state: dict) -> None:
    """Follow the newest run log: the step that started last is the one running."""
    logs = sorted(set(log_dir.glob("*.jsonl")) - known) if log_dir.exists() else []
    if not logs:
        return
    lines = logs[-1].read_text().splitlines()
    for line in lines[state.get("seen", 0) :]:
        try:
            entry = json.loads(line)
        except ValueError:
            break  # a line being written: read it next time
        state["seen"] = state.get("seen", 0) + 1
        event = entry.get("event")
        if event == "step_started":
            state["step"] = entry["data"]["step"]
        elif event == "step_attempt":
            # After a step and before the next one starts (a few statements), or after the
            # last step: the run's record, its reports and the publish.
            state["step"] = "publish"
        elif event == "published":
            state["publish_seconds"] = entry["data"]["seconds"]
            state["step"] = "exit"


def measured(
    args: list[str], log_dir: Path | None = None, command: Sequence[str] = CARTWHEEL
) -> dict:
    """Run a cartwheel command; wall and CPU seconds, peak RSS overall and per step (and
    the sampled wall seconds of the phases outside the steps: start and publish)."""
    known = set(log_dir.glob("*.jsonl")) if log_dir and log_dir.exists() else set()
    state: dict = {"step": "start"}
    peaks: dict[str, float] = {}
    cpu: dict[str, float] = {}
    walls: dict[str, float] = {}
    ticks, tick_seconds = 0, 1 / os.sysconf("SC_CLK_TCK")
    began = last = time.perf_counter()
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen([*command, *args], stdout=subprocess.DEVNULL, stderr=stderr)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if log_dir is not None:
                _current_step(log_dir, known, state)
            step = state["step"]
            rss, now = _rss_mb(process.pid), _cpu_ticks(process.pid) or ticks
            peaks[step] = max(peaks.get(step, 0.0), rss)
            cpu[step] = cpu.get(step, 0.0) + (now - ticks) * tick_seconds
            walls[step] = walls.get(step, 0.0) + time.perf_counter() - last
            ticks, last = now, time.perf_counter()
            time.sleep(0.05)
        wall = time.perf_counter() - began
        if log_dir is not None:
            _current_step(log_dir, known, state)  # the lines written just before the exit
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            stderr.seek(0)
            tail = stderr.read().decode(errors="replace")[-2000:]
            raise SystemExit(f"cartwheel {' '.join(args)} failed:\n{tail}")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        # What the process wrote to files (page cache included: a copy counts in full).
        "written_mb": usage.ru_oublock * 512 / 2**20,
        "step_peak_rss_mb": peaks,
        "step_cpu": cpu,
        "step_wall": walls,
        "publish_seconds": state.get("publish_seconds"),
    }


def _reader(raw: Path, entity: str) -> str:
    parquet = raw / f"{entity}.parquet"
    if parquet.exists():
        return f"read_parquet('{parquet}')"
    return f"read_csv('{raw / f'{entity}.csv'}', header = true)"


# The ten reports' group-bys over the wide table (the same groupings as cartwheel's).
REPORTS = {
    "top_products": "select product_name, category, sum(line_total) as revenue, "
    "sum(quantity) as units from wide group by all order by revenue desc limit 10",
    "monthly": "select strftime(transaction_date, '%Y-%m') as month, sum(line_total), "
    "count(distinct transaction_id), count(distinct customer_id) from wide group by all",
    "segments": "select case when spent < 1000 then 1 when spent < 5000 then 2 "
    "when spent < 10000 then 3 else 4 end as band, count(*), sum(spent) from "
    "(select customer_id, sum(line_total) as spent from wide group by all) group by all",
    "categories": "select category, sum(line_total), sum(line_total - cost * quantity), "
    "sum(quantity) from wide group by all",
    "payments": "select payment_method, count(distinct transaction_id), sum(line_total) "
    "from wide group by all",
    "states": "select state, sum(line_total), count(distinct customer_id) from wide group by all",
    "lifetime": "select customer_id, first_name, last_name, sum(line_total), "
    "count(distinct transaction_id) from wide group by all",
    "profitability": "select product_name, category, sum(line_total - cost * quantity), "
    "sum(line_total), sum(quantity) from wide group by all",
    "weekdays": "select dayname(transaction_date), avg(revenue) from (select "
    "transaction_date, sum(line_total) as revenue from wide group by all) group by all",
    "discounts": "select case when discount_percentage = 0 then 0 when discount_percentage "
    "<= 10 then 1 when discount_percentage <= 25 then 2 when discount_percentage <= 50 "
    "then 3 else 4 end as band, avg(discount_percentage), sum(quantity), sum(line_total) "
    "from wide group by all",
}
KEYS = {
    "customers": "customer_id",
    "products": "product_id",
    "transactions": "transaction_id",
    "transaction_items": "item_id",
}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def floor(
    raw: Path, work: Path, memory_limit: str | None
) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds per step of bare DuckDB doing each step's reads and writes (and `cpu`, their
    CPU seconds together), and the CPU seconds per step."""
    db = work / "floor.duckdb"
    con = duckdb.connect(str(db))
    if memory_limit:
        con.execute(f"set memory_limit = '{memory_limit}'")
    con.execute(f"set temp_directory = '{work / 'floor.tmp'}'")
    seconds: dict[str, float] = {}
    cpu_by_step: dict[str, float] = {}

    def timed(step: str, statements: list[str]) -> None:
        began, cpu = time.perf_counter(), _cpu_seconds()
        for sql in statements:
            con.execute(sql).fetchall()
        seconds[step] = time.perf_counter() - began
        cpu_by_step[step] = _cpu_seconds() - cpu
        seconds["cpu"] = seconds.get("cpu", 0.0) + cpu_by_step[step]

    timed(
        "ingest",
        [f"create table raw_{e} as select * from {_reader(raw, e)}" for e in KEYS],
    )
    timed(
        "quality",
        [
            f"create table valid_{e} as select *, row_number() over "
            f"(partition by {key} order by {key}) as copy_rank from raw_{e}"
            for e, key in KEYS.items()
        ],
    )
    timed("production", [f"create table prod_{e} as select * from raw_{e}" for e in KEYS])
    timed(
        "warehouse",
        [
            "create table wide as select i.*, t.customer_id, t.transaction_date, "
            "t.payment_method, p.product_name, p.category, p.cost, c.first_name, "
            "c.last_name, c.state from prod_transaction_items as i "
            "join prod_transactions as t using (transaction_id) "
            "join prod_products as p using (product_id) "
            "join prod_customers as c using (customer_id)"
        ],
    )
    timed(
        "analytics",
        [
            f"copy ({sql}) to '{work / f'floor_{name}.csv'}' (header)"
            for name, sql in REPORTS.items()
        ],
    )
    con.close()
    return seconds, cpu_by_step


def _folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


def _phase(ran: dict, name: str, seconds: float | None) -> dict:
    """A phase outside the steps (start-up, publish): sampled wall unless logged."""
    return {
        "seconds": seconds if seconds is not None else ran["step_wall"].get(name, 0.0),
        "rows": None,
        "peak_rss_mb": ran["step_peak_rss_mb"].get(name),
        "cpu": ran["step_cpu"].get(name),
    }


def one_rung(
    scale: float,
    file_format: str,
    memory_limit: str | None,
    keep: Path | None,
    statements: bool = False,
    known_floor: dict | None = None,
) -> dict:
    """Generate, run and measure one scale factor. `known_floor` (an earlier rung of the
    same scale factor: the generator writes the same files) is reused instead of being
    measured again."""
    work = Path(tempfile.mkdtemp(prefix=f"cartwheel-ladder-sf{scale:g}-", dir=keep))
    raw, data = work / "raw", work / "data"
    try:
        load_before = os.getloadavg()[0]
        generated = measured(
            ["generate", "--scale", f"{scale:g}", "--format", file_format, "--out", str(raw)]
        )
        counts = json.loads((raw / "generation_metadata.json").read_text())["record_counts"]
        run_args = ["run", "--input", str(raw), "--data-dir", str(data)]
        env_limit = {"CARTWHEEL_DUCKDB_MEMORY_LIMIT": memory_limit} if memory_limit else {}
        os.environ.update(env_limit)
        profile = work / "statements.jsonl"
        command = (
            [sys.executable, str(ROOT / "bench" / "statement_profile.py"), str(profile)]
            if statements
            else CARTWHEEL
        )
        ran = measured(run_args, data / "logs", command)
        report = json.loads((data / "pipeline_execution_report.json").read_text())
        steps = {"start": _phase(ran, "start", None)}
        steps.update(
            {
                name: {
                    "seconds": step["duration_seconds"],
                    "rows": step["records_processed"],
                    "peak_rss_mb": ran["step_peak_rss_mb"].get(name),
                    "cpu": ran["step_cpu"].get(name),
                }
                for name, step in report["steps_executed"].items()
            }
        )
        steps["publish"] = _phase(ran, "publish", ran["publish_seconds"])
        load_after = os.getloadavg()[0]
        data_mb = _folder_mb(data)
        database_mb = (data / "cartwheel.duckdb").stat().st_size / 2**20
        slowest = _slowest_statements(profile) if statements else None
        if known_floor is not None:
            floors, floor_cpu = known_floor["floor"], known_floor["floor_cpu"]
        else:
            floors, floor_cpu = floor(raw, work, memory_limit)
        return {
            "scale": scale,
            "format": file_format,
            # No --memory-limit: the run's own default (`auto`, sized to the machine).
            "memory_limit": memory_limit or "auto",
            "raw_rows": sum(counts.values()),
            "items": counts["transaction_items"],
            "generate": {k: generated[k] for k in ("wall", "cpu", "peak_rss_mb")},
            "run": {k: ran[k] for k in ("wall", "cpu", "peak_rss_mb")},
            "steps": steps,
            "floor": floors,
            "floor_cpu": floor_cpu,
            "database_mb": database_mb,
            "data_folder_mb": data_mb,
            "raw_mb": _folder_mb(raw),
            "load_average": [round(load_before, 1), round(load_after, 1)],
            "slowest_statements": slowest,
            "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _slowest_statements(profile: Path, top: int = 15) -> list[list]:
    """The statement shapes that cost the most CPU in the run: [CPU s, wall s, count, shape]."""
    by_shape: dict[str, list[float]] = {}
    for line in profile.read_text().splitlines():
        row = json.loads(line)
        total = by_shape.setdefault(row["sql"][:120], [0.0, 0.0, 0])
        total[0] += row["cpu_seconds"]
        total[1] += row["seconds"]
        total[2] += 1
    ranked = sorted(by_shape.items(), key=lambda item: -item[1][0])[:top]
    return [[round(c, 2), round(w, 2), n, shape] for shape, (c, w, n) in ranked]


# Report -------------------------------------------------------------------------------


def _rate(rows: float, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds else "–"


def _cpu_cell(step: dict) -> str:
    return f"{step['cpu']:.1f}" if step.get("cpu") is not None else ""


def _floor_wall(rung: dict) -> float:
    return sum(seconds for step, seconds in rung["floor"].items() if step != "cpu")


def table(rungs: list[dict]) -> str:
    """Markdown: one block of rows per scale factor."""
    lines = [
        "| SF | step | rows | seconds | rows/s | peak RSS MB | floor s | × floor | CPU s "
        "| floor CPU s | × floor CPU |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for rung in rungs:
        sf = f"{rung['scale']:g}"
        gen = rung["generate"]
        lines.append(
            f"| {sf} | generate | {rung['raw_rows']:,} | {gen['wall']:.2f} | "
            f"{_rate(rung['raw_rows'], gen['wall'])} | {gen['peak_rss_mb']:,.0f} | | | "
            f"{gen['cpu']:.1f} | | |"
        )
        for name, step in rung["steps"].items():
            # analytics and dashboard count queries and visuals: their rate is fact rows read
            rows = rung["items"] if name in READ_FACTS else step["rows"]
            rows_cell = f"{rows:,}" if rows is not None else ""
            rate = _rate(rows, step["seconds"]) if rows is not None else ""
            floor_s = rung["floor"].get(name)
            ratio = f"{step['seconds'] / floor_s:.1f}" if floor_s else ""
            rss = f"{step['peak_rss_mb']:,.0f}" if step["peak_rss_mb"] else ""
            floor_cell = f"{floor_s:.2f}" if floor_s is not None else ""
            floor_cpu = rung.get("floor_cpu", {}).get(name)
            cpu_floor_cells = (
                f"{floor_cpu:.2f} | {step['cpu'] / floor_cpu:.1f}"
                if floor_cpu and step.get("cpu") is not None
                else " | "
            )
            lines.append(
                f"| {sf} | {name} | {rows_cell} | {step['seconds']:.2f} | "
                f"{rate} | {rss} | {floor_cell} | {ratio} | "
                f"{_cpu_cell(step)} | {cpu_floor_cells} |"
            )
        run, floor_total = rung["run"], _floor_wall(rung)
        floor_cpu = rung["floor"].get("cpu")
        cpu_ratio = f" ({run['cpu'] / floor_cpu:.1f} CPU)" if floor_cpu else ""
        lines.append(
            f"| {sf} | **run --input** (process, memory limit "
            f"{rung.get('memory_limit') or 'DuckDB default'}) | {rung['raw_rows']:,} | "
            f"{run['wall']:.2f} | "
            f"{_rate(rung['raw_rows'], run['wall'])} | {run['peak_rss_mb']:,.0f} | "
            f"{floor_total:.2f} | {run['wall'] / floor_total:.1f}{cpu_ratio} | {run['cpu']:.1f} "
            "| | |"
        )
    return "\n".join(lines)


def chart(rungs: list[dict]) -> str:
    """An SVG line chart (log-log): run wall seconds and floor seconds per scale factor."""
    import math

    width, height, pad = 640, 360, 60
    points = [(r["scale"], r["run"]["wall"], _floor_wall(r), r["generate"]["wall"]) for r in rungs]
    xs = [math.log10(p[0]) for p in points]
    ys = [math.log10(max(v, 0.01)) for p in points for v in p[1:]]
    x0, x1 = min(xs) - 0.2, max(xs) + 0.2
    y0, y1 = math.floor(min(ys)), math.ceil(max(ys))

    def px(scale: float) -> float:
        return pad + (math.log10(scale) - x0) / (x1 - x0) * (width - 2 * pad)

    def py(seconds: float) -> float:
        value = math.log10(max(seconds, 0.01))
        return height - pad - (value - y0) / max(y1 - y0, 1) * (height - 2 * pad)

    series = (
        ("cartwheel run --input", 1, "#c0392b"),
        ("bare DuckDB floor", 2, "#2980b9"),
        ("cartwheel generate", 3, "#27ae60"),
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">'
        "Wall seconds by scale factor (log-log), from bench/ladder-results.json</text>",
    ]
    for exponent in range(y0, y1 + 1):
        y = py(10**exponent)
        parts.append(f'<line x1="{pad}" x2="{width - pad}" y1="{y}" y2="{y}" stroke="#ddd"/>')
        parts.append(f'<text x="{pad - 8}" y="{y + 4}" text-anchor="end">{10**exponent:g} s</text>')
    for scale, *_ in points:
        x, y = px(scale), height - pad + 18
        parts.append(f'<text x="{x}" y="{y}" text-anchor="middle">SF {scale:g}</text>')
    for label, index, colour in series:
        coords = " ".join(f"{px(p[0]):.1f},{py(p[index]):.1f}" for p in points)
        parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        for p in points:
            parts.append(
                f'<circle cx="{px(p[0]):.1f}" cy="{py(p[index]):.1f}" r="3" fill="{colour}"/>'
            )
        y = 40 + 16 * index
        parts.append(f'<rect x="{pad + 10}" y="{y - 9}" width="12" height="3" fill="{colour}"/>')
        parts.append(f'<text x="{pad + 28}" y="{y - 4}">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_report(rungs: list[dict]) -> None:
    rungs = sorted(rungs, key=lambda r: r["scale"])
    CHART.write_text(chart(rungs))
    when = ", ".join(f"SF {r['scale']:g}: {r['measured_at']}" for r in rungs)
    block = (
        f"{START}\n{table(rungs)}\n\n![scale ladder]({CHART.name})\n\n"
        f"Measured by `bench/scale_ladder.py` ({when}).\n{END}"
    )
    text = DOC.read_text() if DOC.exists() else f"# Performance\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    DOC.write_text(head + block + rest.split(END, 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 10])
    parser.add_argument("--format", default="parquet", choices=("csv", "parquet"))
    parser.add_argument("--memory-limit", help="DuckDB memory_limit for the run, e.g. 4GB")
    parser.add_argument("--work", type=Path, help="folder for the raw and data folders")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument(
        "--reuse-floor",
        action="store_true",
        help="keep the floor of the results' earlier rung of the same scale factor (same "
        "seed and scale: the same files) instead of measuring it again",
    )
    parser.add_argument(
        "--statements",
        action="store_true",
        help="time every DuckDB statement of the run (bench/statement_profile.py) and keep "
        "the costliest shapes in the results",
    )
    args = parser.parse_args()
    rungs = {r["scale"]: r for r in json.loads(RESULTS.read_text())} if RESULTS.exists() else {}
    if not args.report_only:
        for scale in args.scales:
            earlier = rungs.get(scale) if args.reuse_floor else None
            if earlier is not None and "floor_cpu" not in earlier:
                earlier = None
            rung = one_rung(
                scale, args.format, args.memory_limit, args.work, args.statements, earlier
            )
            if earlier is not None:
                rung["floor_measured_at"] = earlier.get("floor_measured_at", earlier["measured_at"])
            print(table([rung]), flush=True)
            # Read again: another ladder may have added a rung meanwhile.
            rungs = (
                {r["scale"]: r for r in json.loads(RESULTS.read_text())} if RESULTS.exists() else {}
            )
            rungs[scale] = rung
            RESULTS.parent.mkdir(exist_ok=True)
            RESULTS.write_text(
                json.dumps(sorted(rungs.values(), key=lambda r: r["scale"]), indent=1)
            )
    write_report(list(rungs.values()))


if __name__ == "__main__":
    main()
