"""Run one `cartwheel` command with every DuckDB statement timed, then summarise them.

    .venv/bin/python bench/statement_profile.py OUT.jsonl run --scale 10 --data-dir /tmp/d

Each statement a DuckDB connection of the pipeline executes is written to OUT.jsonl
(seconds, the first 160 characters of its SQL); `summarise(OUT.jsonl)` gives the count,
the total and the slowest statements. The engine itself is not changed: the connection
is wrapped from outside, in this process only.
"""

from __future__ import annotations

import json
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
        began = time.perf_counter()
        result = getattr(self._con, method)(sql, *args, **kwargs)
        if method == "sql" and result is not None:
            result = result.to_arrow_table()  # `sql` is lazy: time the work, not the plan
            relation = self._con.from_arrow(result)
        else:
            relation = result
        self._log.write(
            json.dumps(
                {"seconds": time.perf_counter() - began, "sql": " ".join(str(sql).split())[:160]}
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
    """Statement count, seconds in SQL, and the slowest statement shapes (by total)."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    by_shape: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        by_shape[row["sql"][:100]].append(row["seconds"])
    slowest = sorted(by_shape.items(), key=lambda item: -sum(item[1]))[:top]
    return {
        "statements": len(rows),
        "seconds": sum(row["seconds"] for row in rows),
        "slowest": [(sum(times), len(times), shape) for shape, times in slowest],
    }


def main() -> None:
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
        cli.app()
    finally:
        log.close()


if __name__ == "__main__":
    main()
