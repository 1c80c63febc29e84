"""The run lifecycle: one writer at a time (orchestration.lock), what a killed run left
recovered, the steps run (orchestration.step_runner over the table in orchestration.steps),
every run recorded (orchestration.history) and its outputs published at once or not at
all (orchestration.publish), and the execution report written whatever happens.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from pathlib import Path

from cartwheel import __version__
from cartwheel.config import Settings
from cartwheel.engines import Engine, connect_for_run
from cartwheel.engines.base import WriterBusy
from cartwheel.orchestration import history, lineage
from cartwheel.orchestration.history import RunRecord, StepAttempt, utc_now
from cartwheel.orchestration.lock import LockBusy, LockHolder, RunLock, new_holder
from cartwheel.orchestration.logs import RunLog, read_events
from cartwheel.orchestration.publish import Workspace
from cartwheel.orchestration.step_runner import StepRunner, one_line
from cartwheel.orchestration.steps import STEPS
from cartwheel.orchestration.steps.context import PipelineError, StepContext, StepResult
from cartwheel.reports import iso, now_iso, write_report

__all__ = ["STEPS", "Pipeline", "PipelineError", "StepResult"]


class Pipeline:
    """One run of cartwheel over one data folder and engine."""

    def __init__(self, settings: Settings, trigger: str = "cli") -> None:
        self.settings = settings
        self.trigger = trigger
        self.run_id = str(uuid.uuid4())
        self.results: list[StepResult] = []
        self.record = RunRecord(run_id=self.run_id, started_at=utc_now(), trigger=trigger)
        self.workspace = Workspace(settings.data_dir)
        self.log = RunLog(settings.data_dir, self.run_id)
        #: What recovery did at the start of this run (goes into the report's warnings).
        self.warnings: list[str] = []
        self._interrupted: RunRecord | None = None
        self.started = time.perf_counter()
        self._engine: Engine | None = None
        #: What the steps are given; set when they start.
        self.context: StepContext | None = None

    @property
    def engine(self) -> Engine:
        """The run's private view of the database, published when the run succeeds."""
        if self._engine is None:
            self._engine = connect_for_run(self.settings)
        return self._engine

    def close(self) -> None:
        """Drop whatever was not published (a no-op after a publish)."""
        if self._engine is not None:
            self._engine.discard()
            self._engine = None

    @property
    def input_dir(self) -> Path:
        return self.settings.input_dir or self.settings.raw_dir

    @property
    def output_dir(self) -> Path:
        """Where steps write reports; moved into the data folder when the run publishes."""
        return self.workspace.root

    def _reconnect(self) -> None:
        """After a transient failure: a fresh connection to the same private database."""
        if self._engine is not None:
            self._engine.reconnect()

    def steps_for_run(self) -> list[str]:
        """The steps of a whole run: generate only when no input folder was given."""
        names = list(STEPS)
        return names if self.settings.input_dir is None else names[1:]

    def run(
        self, rebuild: bool = False, steps: list[str] | None = None, wait: bool = False
    ) -> list[StepResult]:
        """Every step in order (or just `steps`), under the lock, published atomically.

        Writes `pipeline_execution_report.json` and the run history whatever happens.
        Raises LockBusy if another run holds the lock (unless `wait`), PipelineError if a
        step fails.
        """
        steps = steps or self.steps_for_run()
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        lock = RunLock(self.settings.data_dir)
        try:
            lock.acquire(
                new_holder(self.run_id, now_iso(), str(self.log.path)),
                wait=wait,
                timeout=self.settings.lock_wait_seconds,
            )
            self.log.open()
        except OSError as error:
            lock.release()
            raise PipelineError(
                f"cannot take the run lock {lock.path}: {one_line(error)}"
            ) from error
        emitter = lineage.attach(self)  # OpenLineage events from this run's log events
        try:
            try:
                self._prepare(lock)
            except OSError as error:
                raise PipelineError(f"recovery of an earlier run: {one_line(error)}") from error
            self._execute(steps, rebuild)
        finally:
            lineage.detach(emitter)
            self.close()
            self.log.close()
            lock.release()
        return self.results

    def _prepare(self, lock: RunLock) -> None:
        """Start a run: recover what a killed run left, start the record and work folder."""
        r = self.record
        r.started_at, r.pid, r.host = utc_now(), os.getpid(), socket.gethostname()
        r.engine = self.settings.engine
        self.log.event(logging.INFO, f"run {self.run_id} started", "run_started")
        recovered = self.workspace.recover(self.settings)
        if recovered:
            self.warnings.append(recovered)
            self.log.event(logging.WARNING, recovered, "recovered")
        if lock.stale is not None:
            message = f"took over the lock of a run that died ({lock.stale.describe()})"
            self.warnings.append(message)
            self.log.event(logging.WARNING, message, "stale_lock")
            self._interrupted = interrupted_record(lock.stale)
        self.workspace.begin()

    def _execute(self, steps: list[str], rebuild: bool) -> None:
        """The steps, then the publish (success) or the history-only publish (failure)."""
        self.started = time.perf_counter()
        self.record.steps = ",".join(steps)
        try:
            self._open_workspace()
            self.engine.claim_writer()
            if self._interrupted is not None and not history.has_run(
                self.engine, self._interrupted.run_id
            ):
                history.record(self.engine, self._interrupted)
            if rebuild:
                self.engine.drop_all()
            self.context = StepContext(
                self.settings,
                self.engine,
                self.run_id,
                self.output_dir,
                self.record.started_at,
                self.results,
            )
            StepRunner(self.context, self.record, self.log, self._reconnect).run_steps(steps)
        except WriterBusy as error:  # refused like a second run on the same data folder
            raise LockBusy(str(error)) from None
        except PipelineError as error:
            raise PipelineError(self._finish_failed("failed", str(error))) from error
        except KeyboardInterrupt:
            self._finish_failed("interrupted", "interrupted (Ctrl-C or SIGTERM)")
            raise
        except Exception as error:  # noqa: BLE001 - e.g. the copy of the warehouse failed
            raise PipelineError(self._finish_failed("failed", one_line(error))) from error
        try:
            self._finish("success", None)
        except Exception as error:  # noqa: BLE001 - e.g. the disk filled up while publishing
            raise PipelineError(
                self._finish_failed("failed", f"publish: {one_line(error)}")
            ) from error

    def _finish_failed(self, status: str, error: str) -> str:
        """Record a failed run; if even that fails, say so in the log and carry on. Returns
        the run's error line, which then also says that the run is not in the history."""
        message = error
        try:
            self._finish(status, error)
        except Exception as problem:  # noqa: BLE001 - the original error matters more
            unrecorded = one_line(problem)
            self.log.event(
                logging.ERROR, f"could not record the failed run: {unrecorded}", "history_failed"
            )
            cause = "" if unrecorded in error else f": {unrecorded}"
            message = f"{error} (not recorded in the run history{cause})"
        self._alert(status, error)
        return message

    def _alert(self, status: str, error: str) -> None:
        """Notify the configured alert channels (never raises; outcomes go to the run log)."""
        from cartwheel.alerts import deliver, run_failed_alert

        failed = [a.step for a in self.record.attempts if a.status == "failed"]
        # A failure before any attempt (e.g. listing the batches) names its step first.
        failed = failed or [name for name in STEPS if error.startswith(f"{name}: ")]
        alert = run_failed_alert(
            self.settings,
            run_id=self.run_id,
            status=status,
            error=error,
            step=failed[-1] if failed else None,
            log_file=self.log.path,
            gate_stopped=any(result.stopped is not None for result in self.results),
        )
        deliver(self.settings.alerts, alert)

    def _open_workspace(self) -> None:
        """Open the run's private view of the database now (DuckDB: its working database,
        rebuilt first if it may differ from the published one), so no step is charged."""
        began = time.perf_counter()
        self.engine  # noqa: B018 - the property opens it
        seconds = time.perf_counter() - began
        self.log.event(
            logging.INFO,
            f"database opened for the run in {seconds:.3f} s",
            "workspace_opened",
            seconds=seconds,
        )

    def _finish(self, status: str, error: str | None) -> None:
        """Record the run, write its report, and publish: everything on success, only
        the history and the reports on failure (readers keep the last good warehouse)."""
        r = self.record
        r.status, r.error_message, r.ended_at = status, error, utc_now()
        r.duration_seconds = round(time.perf_counter() - self.started, 3)
        r.retry_count = sum(res.retry_attempts for res in self.results)
        r.rows_in = next((res.rows_in for res in self.results if res.rows_in is not None), None)
        r.rows_out = next(
            (res.records for res in reversed(self.results) if STEPS[res.name].run_output), None
        )
        if status == "success":
            engine = self.engine
        else:
            self.close()
            engine = connect_for_run(self.settings)
            self._engine = engine
            if self._interrupted is not None and not history.has_run(
                engine, self._interrupted.run_id
            ):
                history.record(engine, self._interrupted)
        history.record(engine, r)
        if status != "success":
            for result in self.results:
                if result.stopped is not None:  # what a stopping step found is kept
                    result.stopped.keep(engine)
        self._write_execution_report(r)
        began = time.perf_counter()
        self.workspace.commit(engine, everything=status == "success")
        self._engine = None
        published = time.perf_counter() - began
        self.log.event(
            logging.INFO, f"published in {published:.3f} s", "published", seconds=published
        )
        self.log.event(
            logging.INFO if status == "success" else logging.ERROR,
            f"run {self.run_id} {status} in {r.duration_seconds:.3f} s"
            + (f": {error}" if error else ""),
            "run_finished",
            status=status,
        )

    def _write_execution_report(self, r: RunRecord) -> None:
        results = {res.name: res for res in self.results}
        write_report(
            self.output_dir,
            "pipeline_execution_report.json",
            {
                "pipeline_execution_id": r.run_id,
                "cartwheel_version": __version__,
                "start_time": iso(r.started_at),
                "end_time": iso(r.ended_at),
                "total_duration_seconds": r.duration_seconds,
                "status": r.status,
                "steps_executed": {
                    name: {
                        "status": res.status,
                        "duration_seconds": round(res.seconds, 3),
                        "records_processed": res.records,
                        "error_message": res.error_message,
                        "retry_attempts": res.retry_attempts,
                    }
                    for name, res in results.items()
                },
                "data_quality_summary": self._quality_summary(),
                "errors": [r.error_message] if r.error_message else [],
                "warnings": self.warnings,
                "log_file": str(self.log.path),
            },
        )

    def _quality_summary(self) -> dict:
        """From this run's quality report, if the quality step wrote one."""
        for folder in (self.output_dir, self.settings.data_dir):
            path = folder / "quality_report.json"
            # A report in the data folder counts only if this run wrote it.
            fresh = folder == self.output_dir or (
                path.exists() and path.stat().st_mtime >= self.record.started_at.timestamp() - 1
            )
            if path.exists() and fresh:
                try:
                    report = json.loads(path.read_text())
                except ValueError:
                    return {}
                return {
                    **{
                        key: report.get(key)
                        for key in ("check_timestamp", "overall_quality_score", "quality_grade")
                    },
                    "gate": report.get("gate"),
                    # rows in = promoted + quarantined + duplicates removed, per batch/entity
                    "conservation": [row["equation"] for row in report.get("conservation", [])],
                }
        return {}


def interrupted_record(holder: LockHolder) -> RunRecord:
    """The history of a run that died holding the lock, rebuilt from its JSON-lines log."""
    from datetime import datetime

    try:
        started = datetime.fromisoformat(holder.started_at).replace(tzinfo=None)
    except ValueError:
        started = utc_now()
    attempts = []
    for row in read_events(Path(holder.log_file), "step_attempt") if holder.log_file else []:
        try:
            attempts.append(
                StepAttempt(
                    **{
                        **row,
                        "started_at": datetime.fromisoformat(str(row["started_at"])),
                        "ended_at": datetime.fromisoformat(str(row["ended_at"])),
                    }
                )
            )
        except (KeyError, TypeError, ValueError):
            continue  # a line from another version of cartwheel: the run row still counts
    return RunRecord(
        run_id=holder.run_id,
        started_at=started,
        ended_at=None,
        status="interrupted",
        error_message=f"process {holder.pid} ended without finishing the run (killed?)",
        retry_count=sum(a.retry_count for a in attempts if a.status == "success"),
        pid=holder.pid,
        host=holder.host,
        steps=",".join(dict.fromkeys(a.step for a in attempts)),
        attempts=attempts,
    )
