"""The pipeline: generate (or take input) → ingest → quality → production → warehouse →
analytics. Each step is also a sub-command; `run` does them all in order.

Around the steps (SPEC §7): one writer at a time (orchestration.lock), transient failures
retried with backoff (orchestration.retry), every run and step attempt recorded
(orchestration.history), and all outputs published at once or not at all, a killed run
being recovered by the next one (orchestration.publish). Steps write their files under
`self.output_dir` (the run's work folder) and use `self.engine`, the run's private view.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cartwheel import __version__
from cartwheel.analytics import run_analytics
from cartwheel.config import Settings
from cartwheel.dashboard import build_dashboard
from cartwheel.engines import Engine, connect_for_run
from cartwheel.engines.base import WriterBusy
from cartwheel.ingest import ingest
from cartwheel.ingest.batches import Batch, mark_processed, pending_batches, register_batch
from cartwheel.ingest.loader import InputError
from cartwheel.orchestration import history, lineage
from cartwheel.orchestration.history import RunRecord, StepAttempt, utc_now
from cartwheel.orchestration.lock import LockBusy, LockHolder, RunLock, new_holder
from cartwheel.orchestration.logs import RunLog, read_events
from cartwheel.orchestration.publish import Workspace
from cartwheel.orchestration.retry import retrying
from cartwheel.production import load_production
from cartwheel.quality.conservation import conservation, equation, records_processed
from cartwheel.quality.repairs import repair_summary
from cartwheel.quality.report import (
    keep_history,
    run_quality,
    transformation_with_earlier_batches,
    with_earlier_batches,
)
from cartwheel.reports import now_iso, write_report
from cartwheel.warehouse import build_warehouse

STEPS = (
    "generate",
    "ingest",
    "quality",
    "production",
    "warehouse",
    "analytics",
    "dashboard",
)


# Steps that run once per input batch (daily folders are loaded one at a time).
BATCH_STEPS = ("ingest", "quality", "production", "warehouse")


class PipelineError(Exception):
    """A step failed in a way the user can act on; the message says how."""


@dataclass
class StepResult:
    name: str
    status: str = "success"
    seconds: float = 0.0
    records: int = 0
    rows_in: int | None = None
    error_message: str | None = None
    retry_attempts: int = 0
    detail: dict = field(default_factory=dict)


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

    @property
    def analytics_dir(self) -> Path:
        return self.output_dir / self.settings.analytics_dir.relative_to(self.settings.data_dir)

    # Steps -------------------------------------------------------------------------

    def generate(self) -> StepResult:
        # Imported here: a run over --input never needs the generator (saves ~0.1 s).
        from cartwheel.generate import Profile, generate

        s = self.settings
        try:
            profile = Profile.from_mapping(s.generator)
        except ValueError as error:
            raise PipelineError(str(error)) from error
        result = generate(
            s.raw_dir,
            scale=s.scale,
            seed=s.seed,
            file_format=s.raw_format,
            defect_rate=s.defect_rate,
            profile=profile,
        )
        shutil.copyfile(
            s.raw_dir / "generation_metadata.json", self.output_dir / "generation_metadata.json"
        )
        return StepResult(
            "generate",
            records=sum(result.record_counts.values()),
            detail={"record_counts": result.record_counts},
        )

    def ingest(self) -> StepResult:
        began = time.perf_counter()
        try:
            batch = self.batch or Batch(self.input_dir.name, self.input_dir, None)
            loads = ingest(
                self.engine,
                batch.folder,
                batch_id=batch.batch_id,
                run_id=self.run_id,
                vocabulary=self.settings.vocabulary,
            )
            register_batch(self.engine, batch, self.run_id)
        except InputError as error:
            raise PipelineError(str(error)) from error
        write_report(
            self.output_dir,
            "ingestion_summary.json",
            {
                "ingestion_timestamp": now_iso(),
                "tables_loaded": {
                    load.table: {
                        "rows_loaded": load.rows_loaded,
                        "status": load.status,
                        "error_message": load.error_message,
                        "source_file": load.source,
                        "execution_time_seconds": round(load.seconds, 3),
                    }
                    for load in loads
                },
                "total_execution_time_seconds": round(time.perf_counter() - began, 3),
            },
        )
        rows = sum(load.rows_loaded for load in loads)
        return StepResult("ingest", records=rows, rows_in=rows)

    def quality(self) -> StepResult:
        """Validate, quarantine, check and score; stop before production on a bad batch."""
        folder = self.batch.folder if self.batch is not None else self.input_dir
        outcome = run_quality(
            self.engine,
            self.run_id,
            self.settings.quality_min_score,
            self.settings.quality_thresholds,
            folder,  # its defect_ledger.csv, if the generator wrote one, is scored
        )
        path = self.output_dir / "quality_report.json"
        write_report(self.output_dir, path.name, with_earlier_batches(path, outcome.report))
        detail = {"conservation": outcome.conservation, "gate": outcome.report["gate"]}
        if not outcome.passed:
            self._stopped_by_gate = outcome  # its check history is kept (see _finish)
            raise PipelineError(
                "quality gate stopped the run before production: " + "; ".join(outcome.gate_reasons)
            )
        rows_in = sum(row["rows_in"] for row in outcome.conservation)
        return StepResult("quality", records=rows_in, rows_in=rows_in, detail=detail)

    def production(self) -> StepResult:
        merges = load_production(self.engine)
        balance = conservation(self.engine)  # once for both uses below
        processed = records_processed(self.engine, merges, balance)
        path = self.output_dir / "transformation_summary.json"
        summary = {
            "transformation_timestamp": now_iso(),
            "run_id": self.run_id,
            "records_processed": processed,
            "conservation": [equation(row) for row in balance],
            **repair_summary(self.engine),
            "transformations_applied": [
                "trim text fields",
                "lower-case emails",
                "digits-only phone numbers",
                "re-case first and last names only when entirely upper or lower case",
                "canonical spellings of known categories, payment methods and age groups "
                "(unknown values kept as given and counted)",
                "exact duplicate rows removed (first occurrence kept); of two rows with one "
                "transaction or item id the latest wins",
                "rows breaking a rule quarantined with a reason code; an order is promoted "
                "whole or not at all (its items follow a rejected transaction, a rejected "
                "item holds back its transaction)",
                "line_total recomputed as round(quantity * unit_price * (1 - discount/100), 2)",
                "total_amount reconciled to the sum of promoted line totals",
                "profit_margin and price_category on products",
                "latest version per customer and product (upsert); transactions and items "
                "appended by id",
            ],
        }
        # A run over several batches: every batch's counts and equation are kept.
        write_report(self.output_dir, path.name, transformation_with_earlier_batches(path, summary))
        return StepResult("production", records=sum(m.input for m in merges))

    def warehouse(self) -> StepResult:
        rows = build_warehouse(self.engine)
        ingested = sum(r.rows_in or 0 for r in self.results if r.name == "ingest")
        if ingested and not rows["warehouse.fact_sales"]:
            # Never publish an empty warehouse from non-empty input as a success.
            raise PipelineError(
                f"the warehouse would be empty: {ingested:,} rows read, no sale promoted "
                "(see quality_report.json: quarantined_rows)"
            )
        return StepResult("warehouse", records=rows["warehouse.fact_sales"], detail=rows)

    def analytics(self) -> StepResult:
        summary = run_analytics(self.engine, self.analytics_dir, self.settings.forecast_days)
        return StepResult("analytics", records=summary["queries_executed"])

    def dashboard(self) -> StepResult:
        """dashboard.html and dashboard_metadata.json, from the warehouse this run built."""
        if not self.engine.table_exists("warehouse.fact_sales"):
            raise PipelineError(
                f"no warehouse in {self.settings.data_dir} yet: run `cartwheel run` first"
            )
        this_run = {
            "run_id": self.run_id,
            "started_at": iso(self.record.started_at),
            "steps": [
                {"step": r.name, "status": r.status, "seconds": round(r.seconds, 3)}
                | {"rows": r.records}
                for r in self.results
            ],
        }
        result = build_dashboard(
            self.engine,
            self.output_dir,
            report_dirs=(self.output_dir, self.settings.data_dir),
            source={"database": self.engine.database_name},
            this_run=this_run,
        )
        return StepResult("dashboard", records=result.visuals, detail={"bytes": result.bytes})

    # Running -----------------------------------------------------------------------

    def step(self, name: str) -> StepResult:
        """Run one step by name, retrying transient failures; record every attempt.

        Raises PipelineError (one line) when the step fails for good.
        """
        action: Callable[[], StepResult] = getattr(self, name)
        s = self.settings
        attempts = 0

        def before_retry(state) -> None:  # noqa: ANN001 - tenacity's RetryCallState
            error = state.outcome.exception()
            self.log.event(
                logging.WARNING,
                f"{name}: transient failure ({one_line(error)}); retry "
                f"{state.attempt_number}/{s.retry_attempts} in {state.next_action.sleep:.2f} s",
                "retry",
                step=name,
                attempt=state.attempt_number,
                wait_seconds=state.next_action.sleep,
            )
            self._reconnect()

        began = time.perf_counter()
        try:
            for attempt in retrying(
                s.retry_attempts, s.retry_backoff_seconds, s.retry_backoff_max_seconds, before_retry
            ):
                with attempt:
                    attempts += 1
                    result = self._attempt(name, action, attempts)
        except PipelineError as error:
            result = StepResult(name, status="failed", error_message=str(error))
        except Exception as error:  # noqa: BLE001 - any other failure stops the run, in one line
            result = StepResult(name, status="failed", error_message=one_line(error))
        result.seconds = time.perf_counter() - began
        result.retry_attempts = attempts - 1
        self.results.append(result)
        if result.status != "success":
            raise PipelineError(f"{name}: {result.error_message}")
        return result

    def _attempt(self, name: str, action: Callable[[], StepResult], number: int) -> StepResult:
        """One try of a step, recorded as a row of ops.step_runs whatever happens."""
        self.log.event(
            logging.INFO, f"{name}: started (attempt {number})", "step_started", step=name
        )
        started_at, began = utc_now(), time.perf_counter()
        error: BaseException | None = None
        result = StepResult(name, status="failed")
        try:
            result = action()
            if result.status != "success":
                raise PipelineError(result.error_message or "failed")
            return result
        except BaseException as caught:
            error = caught
            raise
        finally:
            seconds = time.perf_counter() - began
            row = StepAttempt(
                run_id=self.run_id,
                step=name,
                attempt=number,
                status="failed" if error is not None else "success",
                started_at=started_at,
                ended_at=utc_now(),
                duration_seconds=round(seconds, 3),
                rows_in=result.rows_in,
                rows_out=result.records if error is None else None,
                retry_count=number - 1,
                error_message=one_line(error) if error is not None else None,
            )
            self.record.attempts.append(row)
            self.log.event(
                logging.INFO if error is None else logging.ERROR,
                f"{name}: {row.status} in {seconds:.3f} s"
                + (f", {row.rows_out:,} rows" if row.rows_out is not None else "")
                + (f" ({row.rows_out / seconds:,.0f} rows/s)" if row.rows_out and seconds else "")
                + (f" ({row.error_message})" if row.error_message else ""),
                "step_attempt",
                **{k: v for k, v in row.__dict__.items()},
            )

    def _reconnect(self) -> None:
        """After a transient failure: a fresh connection to the same private database."""
        if self._engine is not None:
            self._engine.reconnect()

    def steps_for_run(self) -> list[str]:
        """The steps of a whole run: generate only when no input folder was given."""
        return list(STEPS if self.settings.input_dir is None else STEPS[1:])

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

    # Daily batches (issue #5) ---------------------------------------------------------

    #: The batch being loaded; None for a single step run on its own.
    batch: Batch | None = None

    def _run_steps(self, steps: list[str]) -> None:
        """The steps in order; with ingest among them, the batch steps run once per
        batch not processed yet (oldest first), each batch then marked processed."""
        per_batch = [s for s in steps if s in BATCH_STEPS] if "ingest" in steps else []
        for name in steps:
            if name not in per_batch:
                self.step(name)
            elif name == per_batch[0]:
                self._run_batches(per_batch)

    def _run_batches(self, names: list[str]) -> None:
        try:
            batches = pending_batches(self.engine, self.input_dir)
        except InputError as error:
            raise PipelineError(f"ingest: {error}") from error
        first = len(self.results)
        for batch in batches:
            self.batch = batch
            for name in names:
                self.step(name)
            mark_processed(self.engine, batch.batch_id)
        self.batch = None
        # One result per step for the whole run (reports and summary), not per batch.
        merged: dict[str, StepResult] = {}
        for res in self.results[first:]:
            total = merged.setdefault(res.name, StepResult(res.name))
            if res.rows_in is not None:
                total.rows_in = (total.rows_in or 0) + res.rows_in
            total.seconds += res.seconds
            # The warehouse step reports table rows (a state), the others rows handled.
            total.records = res.records if res.name == "warehouse" else total.records + res.records
            total.retry_attempts += res.retry_attempts
            total.detail["batches"] = total.detail.get("batches", 0) + 1
        self.results[first:] = list(merged.values())

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
            self.engine.claim_writer()
            self._open_workspace()
            if self._interrupted is not None and not history.has_run(
                self.engine, self._interrupted.run_id
            ):
                history.record(self.engine, self._interrupted)
            if rebuild:
                self.engine.drop_all()
            self._run_steps(steps)
        except WriterBusy as error:  # refused like a second run on the same data folder
            raise LockBusy(str(error)) from None
        except PipelineError as error:
            self._finish_failed("failed", str(error))
            raise PipelineError(str(error)) from error
        except KeyboardInterrupt:
            self._finish_failed("interrupted", "interrupted (Ctrl-C or SIGTERM)")
            raise
        except Exception as error:  # noqa: BLE001 - e.g. the copy of the warehouse failed
            self._finish_failed("failed", one_line(error))
            raise PipelineError(one_line(error)) from error
        try:
            self._finish("success", None)
        except Exception as error:  # noqa: BLE001 - e.g. the disk filled up while publishing
            self._finish_failed("failed", f"publish: {one_line(error)}")
            raise PipelineError(f"publish: {one_line(error)}") from error

    def _finish_failed(self, status: str, error: str) -> None:
        """Record a failed run; if even that fails, say so in the log and carry on."""
        try:
            self._finish(status, error)
        except Exception as problem:  # noqa: BLE001 - the original error matters more
            self.log.event(
                logging.ERROR,
                f"could not record the failed run: {one_line(problem)}",
                "history_failed",
            )
        self._alert(status, error)

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
            gate_stopped=getattr(self, "_stopped_by_gate", None) is not None,
        )
        deliver(self.settings.alerts, alert)

    def _open_workspace(self) -> None:
        """Open the run's private copy now, so that no step is charged for the copy."""
        began = time.perf_counter()
        self.engine  # noqa: B018 - the property opens it
        seconds = time.perf_counter() - began
        self.log.event(
            logging.INFO,
            f"private copy opened in {seconds:.3f} s",
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
            (res.records for res in reversed(self.results) if res.name == "warehouse"), None
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
        if status != "success" and getattr(self, "_stopped_by_gate", None) is not None:
            keep_history(engine, self.run_id, self._stopped_by_gate)
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


def one_line(error: BaseException | None) -> str:
    """An error as one line: its type (unless ours) and the first line of its message."""
    if error is None:
        return ""
    text = (str(error).strip().splitlines() or [""])[0]
    if isinstance(error, PipelineError):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def iso(moment) -> str | None:  # noqa: ANN001 - a naive UTC datetime or None
    return None if moment is None else moment.isoformat(timespec="milliseconds") + "+00:00"


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
