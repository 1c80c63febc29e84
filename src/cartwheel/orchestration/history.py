"""Run history in the warehouse: `ops.pipeline_runs` (one row per run) and
`ops.step_runs` (one row per step attempt). Times are UTC."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from cartwheel.engines import Engine
from cartwheel.sqlfiles import table_ddl

RUN_COLUMNS = (
    "run_id",
    "started_at",
    "ended_at",
    "duration_seconds",
    "status",
    "steps",
    "rows_in",
    "rows_out",
    "retry_count",
    "error_message",
    "trigger",
    "pid",
    "host",
    "engine",
)
STEP_COLUMNS = (
    "run_id",
    "step",
    "attempt",
    "status",
    "started_at",
    "ended_at",
    "duration_seconds",
    "rows_in",
    "rows_out",
    "retry_count",
    "error_message",
)


def utc_now() -> datetime:
    """Naive UTC, the form stored in the history tables."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class StepAttempt:
    run_id: str
    step: str
    attempt: int
    status: str
    started_at: datetime
    ended_at: datetime
    duration_seconds: float
    rows_in: int | None
    rows_out: int | None
    retry_count: int
    error_message: str | None


@dataclass
class RunRecord:
    run_id: str
    started_at: datetime
    ended_at: datetime | None = None
    duration_seconds: float | None = None
    status: str = "running"
    steps: str = ""
    rows_in: int | None = None
    rows_out: int | None = None
    retry_count: int = 0
    error_message: str | None = None
    trigger: str = "cli"
    pid: int | None = None
    host: str | None = None
    engine: str | None = None
    attempts: list[StepAttempt] = field(default_factory=list)


def create_history_tables(engine: Engine) -> None:
    engine.execute("create schema if not exists ops")
    for table in ("ops.pipeline_runs", "ops.step_runs"):
        engine.execute(table_ddl("ops/ddl.sql", table))


def record(engine: Engine, run: RunRecord) -> None:
    """Write one run and its step attempts (replacing rows of the same run id)."""
    create_history_tables(engine)
    run_row = asdict(run)
    with engine.transaction():
        engine.execute("delete from ops.step_runs where run_id = ?", [run.run_id])
        engine.execute("delete from ops.pipeline_runs where run_id = ?", [run.run_id])
        marks = ", ".join("?" for _ in RUN_COLUMNS)
        engine.execute(
            f"insert into ops.pipeline_runs ({', '.join(RUN_COLUMNS)}) values ({marks})",
            [run_row[c] for c in RUN_COLUMNS],
        )
        marks = "(" + ", ".join("?" for _ in STEP_COLUMNS) + ")"
        rows = [asdict(attempt) for attempt in run.attempts]
        # Many rows per statement (a daily-history run has four attempts per batch);
        # chunks keep PostgreSQL well under its 65,535 parameters per statement.
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            engine.execute(
                f"insert into ops.step_runs ({', '.join(STEP_COLUMNS)}) values "
                + ", ".join([marks] * len(chunk)),
                [row[c] for row in chunk for c in STEP_COLUMNS],
            )


def has_run(engine: Engine, run_id: str) -> bool:
    """Whether a run is on record (a killed run may have been published already)."""
    if not engine.table_exists("ops.pipeline_runs"):
        return False
    return bool(engine.scalar("select count(*) from ops.pipeline_runs where run_id = ?", [run_id]))


def last_runs(engine: Engine, limit: int = 10) -> list[dict]:
    """The latest runs, newest first, as dictionaries."""
    if not engine.table_exists("ops.pipeline_runs"):
        return []
    rows = engine.query(
        f"select {', '.join(RUN_COLUMNS)} from ops.pipeline_runs order by started_at desc limit ?",
        [limit],
    )
    return [dict(zip(RUN_COLUMNS, row, strict=True)) for row in rows]
