"""Run one `cartwheel` command with every DuckDB statement timed, then summarise them.

    .venv/bin/python bench/statement_profile.py OUT.jsonl run --scale 10 --data-dir /tmp/d

Each statement a DuckDB connection of the pipeline executes is written to OUT.jsonl
(when it ended, wall and CPU seconds -- the process's, so DuckDB's threads count --,
the first 160 characters of its SQL); at the end the count, the totals and the statement shapes that
cost the most CPU are printed (`summarise(OUT.jsonl)`). The engine itself is not changed:
the connection is wrapped from outside, in this process only.

    .venv/bin/python bench/statement_profile.py growth 30=a.jsonl 100=b.jsonl 300=c.jsonl

compares the profiles of one command at several scale factors: statements are matched by
their text and their occurrence (the nth run of the same text), and each one's growth
exponent is the least-squares slope of log CPU seconds against log scale factor (1 is
linear). It prints a Markdown table of the statements that cost the most at the largest
scale, with their exponents.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path


class TimedConnection:
    """A DuckDB connection whose `execute` and `sql` calls are timed to a log file."""

    def __init__(self, con, log) -> None:  # noqa: ANN001 - duckdb connection, open file
        self._con = con
        self._log = log

    def _timed(self, method: str, sql: str, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        began, cpu = time.perf_counter(), time.process_time()
        result = getattr(self._con, method)(sql, *args, **kwargs)
        if method == "sql" and result is not None:
            result = result.to_arrow_table()  # `sql` is lazy: time the work, not the plan
            relation = self._con.from_arrow(result)
        else:
            relation = result
        self._log.write(
            json.dumps(
                {
                    "at": time.time(),  # when it ended: attributable to a step by the run log
                    "seconds": time.perf_counter() - began,
                    "cpu_seconds": time.process_time() - cpu,
                    "sql": " ".join(str(sql).split())[:160],
                }
            )
            + "\n"
        )
        return relation

    def execute(self, sql: str, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return self._timed("execute", sql, *args, **kwargs)

    def sql(self, sql: str, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return self._timed("sql", sql, *args, **kwargs)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._con, name)


def summarise(path: Path, top: int = 12) -> dict:
    """Statement count, wall and CPU seconds in SQL, and the statement shapes that cost
    the most CPU (total, count, shape)."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    by_shape: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        by_shape[row["sql"][:100]].append(row["cpu_seconds"])
    slowest = sorted(by_shape.items(), key=lambda item: -sum(item[1]))[:top]
    return {
        "statements": len(rows),
        "seconds": sum(row["seconds"] for row in rows),
        "cpu_seconds": sum(row["cpu_seconds"] for row in rows),
        "slowest": [(sum(times), len(times), shape) for shape, times in slowest],
    }


def _occurrences(path: Path) -> dict[tuple[str, int], float]:
    """CPU seconds per (statement text, nth occurrence of that text) of one profile."""
    seen: dict[str, int] = defaultdict(int)
    cpu: dict[tuple[str, int], float] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            seen[row["sql"]] += 1
            cpu[(row["sql"], seen[row["sql"]])] = row["cpu_seconds"]
    return cpu


def growth_exponent(scales: list[float], seconds: list[float]) -> float | None:
    """Least-squares slope of log seconds against log scale (None if a time is zero)."""
    if min(seconds) <= 0:
        return None
    xs = [math.log(scale) for scale in scales]
    ys = [math.log(value) for value in seconds]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def growth(profiles: dict[float, Path], top: int = 25) -> list[tuple]:
    """(statement, CPU seconds per scale, exponent) of the statements found in every
    profile, the costliest at the largest scale first."""
    scales = sorted(profiles)
    per_scale = [_occurrences(profiles[scale]) for scale in scales]
    common = set(per_scale[0]).intersection(*per_scale[1:])
    rows = [(key, [cpu[key] for cpu in per_scale]) for key in common]
    rows.sort(key=lambda row: -row[1][-1])
    return [(key, times, growth_exponent(scales, times)) for key, times in rows[:top]]


def print_growth(arguments: list[str]) -> None:
    """Print the growth table of `SCALE=PROFILE.jsonl` arguments as Markdown."""
    profiles = {float(scale): Path(path) for scale, path in (a.split("=", 1) for a in arguments)}
    scales = sorted(profiles)
    header = " | ".join(f"SF {scale:g} CPU s" for scale in scales)
    print(f"| statement | {header} | exponent |")
    print("|---|" + "---:|" * (len(scales) + 1))
    for (sql, nth), times, exponent in growth(profiles):
        shown = " | ".join(f"{value:.2f}" for value in times)
        slope = "–" if exponent is None else f"{exponent:.2f}"
        label = sql[:90] + (f" (#{nth})" if nth > 1 else "")
        print(f"| `{label}` | {shown} | {slope} |")


def main() -> None:
    if sys.argv[1] == "growth":
        print_growth(sys.argv[2:])
        return
    out = Path(sys.argv[1])
    log = out.open("w")

    import duckdb

    from cartwheel import cli

    connect = duckdb.connect

    def timed_connect(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        return TimedConnection(connect(*args, **kwargs), log)

    duckdb.connect = timed_connect
    sys.argv = ["cartwheel", *sys.argv[2:]]
    try:
        cli.app(standalone_mode=False)
    finally:
        log.close()
    summary = summarise(out)
    print(
        f"{summary['statements']} statements, {summary['seconds']:.3f} s wall, "
        f"{summary['cpu_seconds']:.3f} s CPU in SQL; most CPU:"
    )
    for cpu, count, shape in summary["slowest"]:
        print(f"{cpu:8.3f} s {count:4d}x  {shape}")


if __name__ == "__main__":
    main()
