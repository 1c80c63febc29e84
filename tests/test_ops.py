"""Operations: retries (transient vs fatal), run history, the single-writer lock, stale
locks, readers that do not block a run, and recovery of a run's leftovers."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cartwheel.cli import EXIT_LOCKED, app
from cartwheel.config import Settings
from cartwheel.generate import generate
from cartwheel.orchestration import Pipeline, PipelineError
from cartwheel.orchestration.lock import LockHolder, RunLock
from cartwheel.orchestration.retry import FatalError, TransientError, is_transient
from cartwheel.orchestration.steps import STEPS
from cartwheel.orchestration.steps.context import StepContext, StepOutput


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small shop export (scale 0.05) that every run in this module builds from."""
    folder = tmp_path_factory.mktemp("ops") / "shop"
    generate(folder, scale=0.05, seed=3)
    return folder


def settings_for(data_dir: Path, shop: Path, **extra: object) -> Settings:
    return Settings(data_dir=data_dir, input_dir=shop, retry_backoff_seconds=0.01, **extra)


def query(data_dir: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(data_dir / "cartwheel.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def report(data_dir: Path) -> dict:
    return json.loads((data_dir / "pipeline_execution_report.json").read_text())


def flaky(monkeypatch: pytest.MonkeyPatch, step: str, error: BaseException, times: int) -> list:
    """Make `step` raise `error` on its first `times` calls, then work; returns call log."""
    calls: list[int] = []
    original = STEPS[step].run

    def patched(context: StepContext) -> StepOutput:
        calls.append(1)
        if len(calls) <= times:
            raise error
        return original(context)

    monkeypatch.setitem(STEPS, step, replace(STEPS[step], run=patched))
    return calls


# Retries --------------------------------------------------------------------------


def test_transient_failures_are_retried_with_backoff_and_every_attempt_recorded(
    tmp_path: Path, shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = flaky(monkeypatch, "production", duckdb.IOException("disk hiccup"), times=2)
    began = time.perf_counter()
    pipeline = Pipeline(settings_for(tmp_path, shop))
    pipeline.run()
    assert len(calls) == 3
    # Backoff 0.01 s then 0.02 s: at least 0.03 s spent waiting.
    assert time.perf_counter() - began >= 0.03
    attempts = query(
        tmp_path,
        "select attempt, status, retry_count, error_message from ops.step_runs "
        "where step = 'production' order by attempt",
    )
    assert [(a, s, r) for a, s, r, _ in attempts] == [
        (1, "failed", 0),
        (2, "failed", 1),
        (3, "success", 2),
    ]
    assert attempts[0][3] == "IOException: disk hiccup"
    run = query(tmp_path, "select status, retry_count, rows_in from ops.pipeline_runs")
    assert run == [("success", 2, pipeline.record.rows_in)]
    steps = report(tmp_path)["steps_executed"]
    assert steps["production"]["retry_attempts"] == 2
    assert steps["ingest"]["retry_attempts"] == 0
    waits = [
        json.loads(line)["data"]["wait_seconds"]
        for line in pipeline.log.path.read_text().splitlines()
        if json.loads(line).get("event") == "retry"
    ]
    assert waits == [0.01, 0.02]


def test_transient_failures_give_up_after_the_configured_retries(
    tmp_path: Path, shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Pipeline(settings_for(tmp_path, shop)).run()
    analytics = tmp_path / "analytics" / "query1_top_products.csv"
    published = (analytics.stat().st_mtime_ns, (tmp_path / "cartwheel.duckdb").stat().st_ino)
    calls = flaky(monkeypatch, "warehouse", OSError(errno.EIO, "I/O error"), times=99)
    with pytest.raises(PipelineError, match="warehouse: OSError"):
        Pipeline(settings_for(tmp_path, shop, retry_attempts=2)).run()
    assert len(calls) == 3
    # The failed run's history is published; its data is not.
    assert query(tmp_path, "select status from ops.pipeline_runs order by started_at") == [
        ("success",),
        ("failed",),
    ]
    assert query(
        tmp_path,
        "select count(*) from ops.step_runs s join ops.pipeline_runs r using (run_id) "
        "where r.status = 'failed' and s.step = 'warehouse' and s.status = 'failed'",
    ) == [(3,)]
    assert analytics.stat().st_mtime_ns == published[0]
    assert report(tmp_path)["status"] == "failed"
    assert report(tmp_path)["steps_executed"]["warehouse"]["retry_attempts"] == 2
    assert not (tmp_path / ".work").exists()


def test_a_fatal_failure_stops_the_run_at_once_with_one_line(
    tmp_path: Path, shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = flaky(
        monkeypatch, "quality", duckdb.ConstraintException("duplicate key\nDETAIL: x"), times=9
    )
    result = CliRunner().invoke(app, ["run", "--input", str(shop), "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert len(calls) == 1
    assert "error: quality: ConstraintException: duplicate key" in result.output
    assert "DETAIL" not in result.output and "Traceback" not in result.output
    executed = report(tmp_path)["steps_executed"]
    assert list(executed) == ["ingest", "quality"]
    assert executed["quality"]["status"] == "failed"
    # Nothing of the failed run's data was published: no warehouse tables at all.
    assert query(
        tmp_path, "select count(*) from information_schema.tables where table_schema <> 'ops'"
    ) == [(0,)]


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (duckdb.IOException("Could not set lock on file"), True),
        (duckdb.ConnectionException("connection lost"), True),
        (OSError(errno.EIO, "I/O error"), True),
        (TimeoutError(errno.ETIMEDOUT, "timed out"), True),
        (TransientError("flaky"), True),
        (RuntimeError("wrapped"), False),
        (FileNotFoundError(errno.ENOENT, "gone"), False),
        (duckdb.ConstraintException("dup"), False),
        (duckdb.CatalogException("no table"), False),
        (duckdb.ParserException("syntax"), False),
        (PipelineError("quality gate"), False),
        (FatalError("no"), False),
    ],
)
def test_transient_and_fatal_errors_are_told_apart(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient


def test_a_lost_postgres_connection_is_transient() -> None:
    psycopg = pytest.importorskip("psycopg")
    assert is_transient(psycopg.OperationalError("server closed the connection"))
    assert not is_transient(psycopg.errors.UniqueViolation("dup"))


def test_a_transient_error_wrapped_in_another_is_still_transient() -> None:
    try:
        try:
            raise duckdb.IOException("read failed")
        except duckdb.IOException as inner:
            raise RuntimeError("loading failed") from inner
    except RuntimeError as outer:
        assert is_transient(outer)


# The lock ------------------------------------------------------------------------

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from cartwheel.orchestration.lock import RunLock, new_holder
    lock = RunLock(Path(sys.argv[1]))
    lock.acquire(new_holder("holder-run", "2026-01-01T00:00:00+00:00"))
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    lock.release()
    """
)


def hold_lock(data_dir: Path, seconds: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "locked"
    return process


def test_a_second_run_is_refused_at_once_while_one_holds_the_lock(
    tmp_path: Path, shop: Path
) -> None:
    holder = hold_lock(tmp_path, 30)
    try:
        began = time.perf_counter()
        result = CliRunner().invoke(app, ["run", "--input", str(shop), "--data-dir", str(tmp_path)])
        assert time.perf_counter() - began < 5
        assert result.exit_code == EXIT_LOCKED
        assert f"another cartwheel run is in progress (pid {holder.pid}" in result.output
        assert "--wait" in result.output
        assert not (tmp_path / "cartwheel.duckdb").exists()
    finally:
        holder.kill()
        holder.wait()


def test_wait_runs_once_the_lock_is_released(tmp_path: Path, shop: Path) -> None:
    holder = hold_lock(tmp_path, 1.0)
    began = time.perf_counter()
    result = CliRunner().invoke(
        app, ["run", "--wait", "--input", str(shop), "--data-dir", str(tmp_path)]
    )
    holder.wait()
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - began >= 0.9
    assert query(tmp_path, "select status from ops.pipeline_runs") == [("success",)]


def test_a_stale_lock_of_a_dead_process_is_taken_over_and_its_run_recorded(
    tmp_path: Path, shop: Path
) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    log = tmp_path / "logs" / "dead.jsonl"
    log.parent.mkdir(parents=True)
    attempt = {
        "run_id": "dead-run",
        "step": "ingest",
        "attempt": 1,
        "status": "success",
        "started_at": "2026-01-01T00:00:01",
        "ended_at": "2026-01-01T00:00:02",
        "duration_seconds": 1.0,
        "rows_in": 5,
        "rows_out": 5,
        "retry_count": 0,
        "error_message": None,
    }
    log.write_text(json.dumps({"event": "step_attempt", "data": attempt}) + "\n{cut short")
    holder = LockHolder(dead.pid, "dead-run", "2026-01-01T00:00:00+00:00", "h", str(log))
    (tmp_path / ".cartwheel.lock").write_text(json.dumps(holder.__dict__))

    pipeline = Pipeline(settings_for(tmp_path, shop))
    pipeline.run()
    warnings = report(tmp_path)["warnings"]
    assert any(f"took over the lock of a run that died (pid {dead.pid}" in w for w in warnings)
    runs = query(tmp_path, "select run_id, status, steps from ops.pipeline_runs order by 1")
    assert {run_id: (status, steps) for run_id, status, steps in runs} == {
        "dead-run": ("interrupted", "ingest"),
        pipeline.run_id: ("success", ",".join(pipeline.steps_for_run())),
    }
    assert query(
        tmp_path, "select step, rows_out from ops.step_runs where run_id = 'dead-run'"
    ) == [("ingest", 5)]
    assert RunLock(tmp_path).holder() is None
    assert (tmp_path / ".cartwheel.lock").read_text() == ""


# Publishing ------------------------------------------------------------------------

READER = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    sql = "select count(*) from ops.pipeline_runs"
    print(con.execute(sql).fetchall()[0][0], flush=True)
    sys.stdin.readline()
    print(con.execute(sql).fetchall()[0][0], flush=True)
    """
)


def test_a_reader_does_not_block_a_run_and_keeps_a_consistent_snapshot(
    tmp_path: Path, shop: Path
) -> None:
    Pipeline(settings_for(tmp_path, shop)).run()
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(tmp_path / "cartwheel.duckdb")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "1"
        Pipeline(settings_for(tmp_path, shop)).run()  # would fail if it opened that file
        out, _ = reader.communicate("\n", timeout=30)
        assert out.strip() == "1"  # the reader's snapshot did not change under it
    finally:
        reader.kill()
    assert query(tmp_path, "select count(*) from ops.pipeline_runs") == [(2,)]


def test_leftovers_of_a_killed_run_are_discarded(tmp_path: Path, shop: Path) -> None:
    Pipeline(settings_for(tmp_path, shop)).run()
    before = query(tmp_path, "select count(*), sum(line_total) from warehouse.fact_sales")
    # What a run killed mid-way leaves: a half-written work folder and next database.
    (tmp_path / ".work" / "analytics").mkdir(parents=True)
    (tmp_path / ".work" / "analytics" / "query1_top_products.csv").write_text("half,written\n")
    (tmp_path / ".cartwheel.next.duckdb").write_bytes(b"not a database")
    pipeline = Pipeline(settings_for(tmp_path, shop))
    pipeline.run()
    assert "discarded the unpublished work of an interrupted run" in pipeline.warnings
    assert "half,written" not in (tmp_path / "analytics" / "query1_top_products.csv").read_text()
    assert query(tmp_path, "select count(*), sum(line_total) from warehouse.fact_sales") == before
    assert not (tmp_path / ".work").exists()
    assert not (tmp_path / ".cartwheel.next.duckdb").exists()


def test_a_committed_publish_is_finished_by_the_next_run(tmp_path: Path, shop: Path) -> None:
    Pipeline(settings_for(tmp_path, shop)).run()
    # A run killed after its commit marker: the sealed next database and files wait.
    next_db = tmp_path / ".cartwheel.next.duckdb"
    next_db.write_bytes((tmp_path / "cartwheel.duckdb").read_bytes())
    con = duckdb.connect(str(next_db))
    con.execute("create table ops.published_marker as select 42 as answer")
    con.close()
    (tmp_path / ".work").mkdir()
    (tmp_path / ".work" / "late_summary.json").write_text("{}")
    (tmp_path / ".work" / "PUBLISHING").write_text('{"everything": true}')
    pipeline = Pipeline(settings_for(tmp_path, shop))
    pipeline.run(steps=["analytics"])
    assert "finished publishing the outputs of an interrupted run" in pipeline.warnings
    assert query(tmp_path, "select answer from ops.published_marker") == [(42,)]
    assert (tmp_path / "late_summary.json").exists()


# Commands ----------------------------------------------------------------------------


def test_status_lists_the_last_runs_and_a_single_step_is_a_run(tmp_path: Path, shop: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["run", "--input", str(shop), "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["analytics", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["status", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    runs = query(tmp_path, "select run_id, steps from ops.pipeline_runs order by started_at desc")
    assert [steps for _, steps in runs][0] == "analytics"
    lines = result.output.splitlines()
    first, second = (next(i for i, line in enumerate(lines) if r[:8] in line) for r, _ in runs)
    assert first < second  # newest first
    assert result.output.count("success") == 2


def test_status_without_a_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["status", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "no warehouse yet" in result.output
    assert "Traceback" not in result.output


def test_every_run_writes_a_json_lines_log(tmp_path: Path, shop: Path) -> None:
    pipeline = Pipeline(settings_for(tmp_path, shop))
    pipeline.run()
    entries = [json.loads(line) for line in pipeline.log.path.read_text().splitlines()]
    events = [entry["event"] for entry in entries]
    assert events[0] == "run_started" and events[-1] == "run_finished"
    assert events.count("step_attempt") == len(pipeline.results)
    assert {entry["run_id"] for entry in entries} == {pipeline.run_id}
