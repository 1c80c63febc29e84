"""The one runner every step goes through: transient failures retried with backoff,
every attempt recorded (ops.step_runs and the run log), the per-batch steps run once per
pending batch, and one result per step for the reports."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date

from cartwheel.ingest.batches import Batch, last_processed_date, mark_processed, pending_batches
from cartwheel.ingest.raw_files import InputError, record_run_batches
from cartwheel.orchestration.history import RunRecord, StepAttempt, utc_now
from cartwheel.orchestration.logs import RunLog
from cartwheel.orchestration.retry import retrying
from cartwheel.orchestration.steps import LOADS_BATCHES, STEPS, Step
from cartwheel.orchestration.steps.context import (
    PipelineError,
    StepContext,
    StepOutput,
    StepResult,
    StepStopped,
)


def one_line(error: BaseException | None) -> str:
    """An error as one line: its type (unless ours) and the first line of its message."""
    if error is None:
        return ""
    text = (str(error).strip().splitlines() or [""])[0]
    if isinstance(error, PipelineError):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class StepRunner:
    """Runs the steps of one run in its context; results go to `context.results`."""

    def __init__(
        self, context: StepContext, record: RunRecord, log: RunLog, reconnect: Callable[[], None]
    ) -> None:
        self.context = context
        self.record = record
        self.log = log
        self.reconnect = reconnect
        #: Tables that a step of this invocation writes: its later steps need not look for them.
        self.written_here: frozenset[str] = frozenset()

    def run_steps(self, names: list[str]) -> None:
        """The steps in order. With the step that loads batches among them, the per-batch
        steps run once per batch not processed yet (oldest first), each batch then marked
        processed; without it, once, on what is staged."""
        steps = [STEPS[name] for name in names]
        self.written_here = frozenset(table for step in steps for table in step.writes)
        per_batch = [s for s in steps if s.per_batch] if LOADS_BATCHES in names else []
        for step in steps:
            if step not in per_batch:
                self.run_step(step)
            elif step is per_batch[0]:
                self._run_batches(per_batch)

    def _run_batches(self, steps: list[Step]) -> None:
        """Each batch through the per-batch steps; the steps that span batches run once
        over each group of consecutive daily batches (see `_joins_group`)."""
        context = self.context
        try:
            batches = pending_batches(context.engine, context.input_dir)
            last_date = last_processed_date(context.engine)
        except InputError as error:
            raise PipelineError(f"{LOADS_BATCHES}: {error}") from error
        spanning = [s for s in steps if s.spans_batches] if context.settings.batch_grouping else []
        each = [s for s in steps if s not in spanning]
        results = context.results
        first = len(results)
        group: list[Batch] = []
        context.held_reports = {}
        try:
            for batch in batches:
                if not self._joins_group(batch, last_date):
                    self._finish_group(group, spanning)
                context.batch, context.conservation = batch, None
                try:
                    for step in each:
                        self.run_step(step)
                except PipelineError:
                    if results[-1].stopped is not None:  # the gate: the batches before go on
                        self._finish_group(group, spanning)
                    raise
                group.append(batch)
                if not spanning or not self._joins_group(batch, last_date):
                    self._finish_group(group, spanning)
            self._finish_group(group, spanning)
        finally:
            context.batch, context.conservation = None, None
            context.flush_reports()
        # One result per step for the whole run (reports and summary), not per batch.
        merged: dict[str, StepResult] = {}
        for res in results[first:]:
            total = merged.setdefault(res.name, StepResult(res.name))
            if res.rows_in is not None:
                total.rows_in = (total.rows_in or 0) + res.rows_in
            total.seconds += res.seconds
            latest = STEPS[res.name].records == "latest"
            total.records = res.records if latest else total.records + res.records
            total.retry_attempts += res.retry_attempts
        results[first:] = list(merged.values())

    @staticmethod
    def _joins_group(batch: Batch, last_date: date | None) -> bool:
        """Whether a batch may share a pass of the spanning steps with its neighbours: a
        daily batch later than every batch loaded before. A snapshot, or a late batch
        (it may reshape version chains before later dates), has its own pass."""
        return batch.business_date is not None and (
            last_date is None or batch.business_date > last_date
        )

    def _finish_group(self, group: list[Batch], spanning: list[Step]) -> None:
        """The spanning steps once over `group` (processed by the other steps already),
        then its batches marked processed; the group is emptied."""
        if not group:
            return
        if spanning:
            record_run_batches(self.context.engine, [batch.batch_id for batch in group])
            for step in spanning:
                self.run_step(step)
        for batch in group:
            mark_processed(self.context.engine, batch.batch_id)
        group.clear()

    def run_step(self, step: Step) -> StepResult:
        """One step, retrying transient failures; every attempt recorded.

        Raises PipelineError (one line) when the step fails for good.
        """
        name, s = step.name, self.context.settings
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
            self.reconnect()

        began = time.perf_counter()
        try:
            self._require_inputs(step)
            for attempt in retrying(
                s.retry_attempts, s.retry_backoff_seconds, s.retry_backoff_max_seconds, before_retry
            ):
                with attempt:
                    attempts += 1
                    output = self._attempt(step, attempts)
            result = StepResult(name, records=output.records, rows_in=output.rows_in)
        except PipelineError as error:
            stopped = error if isinstance(error, StepStopped) else None
            result = StepResult(name, status="failed", error_message=str(error), stopped=stopped)
        except Exception as error:  # noqa: BLE001 - any other failure stops the run, in one line
            result = StepResult(name, status="failed", error_message=one_line(error))
        result.seconds = time.perf_counter() - began
        result.retry_attempts = attempts - 1
        self.context.results.append(result)
        if result.status != "success":
            raise PipelineError(f"{name}: {result.error_message}")
        return result

    def _require_inputs(self, step: Step) -> None:
        """A step run on its own, before the steps it reads from ever ran (a fresh data
        folder): say which step to run first instead of the engine's missing-table error."""
        engine = self.context.engine
        for table in step.reads:
            if table in self.written_here or engine.table_exists(table):
                continue
            writer = next(s.name for s in STEPS.values() if table in s.writes)
            raise PipelineError(
                f"nothing from {writer} in {self.context.settings.data_dir} yet ({table} is "
                f"missing): run `cartwheel {writer}` first, or `cartwheel run`"
            )

    def _attempt(self, step: Step, number: int) -> StepOutput:
        """One try of a step, recorded as a row of ops.step_runs whatever happens."""
        name = step.name
        self.log.event(
            logging.INFO, f"{name}: started (attempt {number})", "step_started", step=name
        )
        started_at, began = utc_now(), time.perf_counter()
        error: BaseException | None = None
        output: StepOutput | None = None
        try:
            output = step.run(self.context)
            return output
        except BaseException as caught:
            error = caught
            raise
        finally:
            seconds = time.perf_counter() - began
            row = StepAttempt(
                run_id=self.context.run_id,
                step=name,
                attempt=number,
                status="failed" if error is not None else "success",
                started_at=started_at,
                ended_at=utc_now(),
                duration_seconds=round(seconds, 3),
                rows_in=output.rows_in if output is not None else None,
                rows_out=output.records if output is not None else None,
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
