"""`cartwheel status`: the last runs from the run history, as a table."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from cartwheel.config import Settings
from cartwheel.engines import connect_reader
from cartwheel.orchestration.history import last_runs
from cartwheel.orchestration.lock import RunLock
from cartwheel.terminal import plain

COLOURS = {"success": "green", "failed": "red", "interrupted": "yellow"}


def render_status(settings: Settings, limit: int = 10) -> Group:
    """A table of the last `limit` runs, and who holds the lock now (if anyone)."""
    holder = RunLock(settings.data_dir).holder()
    engine = connect_reader(settings)
    try:
        runs = last_runs(engine, limit)
    finally:
        engine.close()
    table = Table(title=plain(f"cartwheel runs in {settings.data_dir}"))
    for column, justify in (
        ("started (UTC)", "left"),
        ("run", "left"),
        ("trigger", "left"),
        ("status", "left"),
        ("seconds", "right"),
        ("rows in", "right"),
        ("rows out", "right"),
        ("retries", "right"),
        ("error", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for run in runs:
        colour = COLOURS.get(run["status"], "white")
        table.add_row(
            run["started_at"].strftime("%Y-%m-%d %H:%M:%S"),
            run["run_id"][:8],
            plain(run["trigger"] or ""),
            plain(run["status"], colour),
            "" if run["duration_seconds"] is None else f"{run['duration_seconds']:.3f}",
            "" if run["rows_in"] is None else f"{run['rows_in']:,}",
            "" if run["rows_out"] is None else f"{run['rows_out']:,}",
            str(run["retry_count"] or 0),
            plain(run["error_message"] or ""),
        )
    lines: list = [table]
    if not runs:
        lines.append(Text("no runs recorded yet"))
    if holder is not None:
        lines.append(plain(f"running now: {holder.describe()}", "bold"))
    return Group(*lines)
