"""Progress of a long step: rows and rate, on the console and in the run's log.

The records go to the `cartwheel` logger (event `progress`): a run's JSON-lines file
gets every one, the console the parts that took at least LONG_SECONDS."""

from __future__ import annotations

import logging

LONG_SECONDS = 1.0


def report(step: str, part: str, rows: int, seconds: float) -> None:
    """One finished part of a step (a table, a phase): its rows and rows per second."""
    rate = f", {rows / seconds:,.0f} rows/s" if seconds > 0 else ""
    logging.getLogger("cartwheel").log(
        logging.INFO if seconds >= LONG_SECONDS else logging.DEBUG,
        f"{step}: {part} {rows:,} rows in {seconds:.2f} s{rate}",
        extra={
            "event": "progress",
            "data": {"step": step, "part": part, "rows": rows, "seconds": round(seconds, 3)},
        },
    )
