"""The pipeline: generate (or take input) → ingest → quality → production → warehouse →
analytics. Each step is also a sub-command; `run` does them all in order."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cartwheel.analytics import run_analytics
from cartwheel.config import Settings
from cartwheel.contract import ENTITIES
from cartwheel.engines import Engine, connect
from cartwheel.generate import generate
from cartwheel.ingest import ingest
from cartwheel.ingest.loader import InputError
from cartwheel.production import load_production
from cartwheel.quality import validate
from cartwheel.reports import now_iso, write_report
from cartwheel.warehouse import build_warehouse

STEPS = ("generate", "ingest", "quality", "production", "warehouse", "analytics")


class PipelineError(Exception):
    """A step failed in a way the user can act on; the message says how."""


@dataclass
class StepResult:
    name: str
    status: str = "success"
    seconds: float = 0.0
    records: int = 0
    error_message: str | None = None
    retry_attempts: int = 0
    detail: dict = field(default_factory=dict)


class Pipeline:
    """One run of cartwheel over one data folder and engine."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.run_id = str(uuid.uuid4())
        self.results: list[StepResult] = []
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = connect(self.settings)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    @property
    def input_dir(self) -> Path:
        return self.settings.input_dir or self.settings.raw_dir

    # Steps -------------------------------------------------------------------------

    def generate(self) -> StepResult:
        s = self.settings
        result = generate(s.raw_dir, scale=s.scale, seed=s.seed, file_format=s.raw_format)
        shutil.copyfile(
            s.raw_dir / "generation_metadata.json", s.data_dir / "generation_metadata.json"
        )
        return StepResult(
            "generate",
            records=sum(result.record_counts.values()),
            detail={"record_counts": result.record_counts},
        )

    def ingest(self) -> StepResult:
        began = time.perf_counter()
        try:
            loads = ingest(self.engine, self.input_dir, batch_id=self.input_dir.name)
        except InputError as error:
            raise PipelineError(str(error)) from error
        write_report(
            self.settings.data_dir,
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
        return StepResult("ingest", records=sum(load.rows_loaded for load in loads))

    def quality(self) -> StepResult:
        rows = validate(self.engine)
        return StepResult("quality", records=sum(rows.values()), detail=rows)

    def production(self) -> StepResult:
        merges = load_production(self.engine)
        processed = {}
        for entity in ENTITIES:
            reasons = dict(
                self.engine.query(
                    f"select reject_reason, count(*) from staging.{entity}_validated "
                    "where reject_reason is not null group by reject_reason order by reject_reason"
                )
            )
            staged = self.engine.count(f"staging.{entity}")
            merge = next(m for m in merges if m.table == entity)
            processed[entity] = {
                "input": staged,
                "output": merge.input,
                "filtered": staged - merge.input,
                "rejected_reasons": reasons,
                "inserted": merge.inserted,
                "table_rows": merge.output,
            }
        write_report(
            self.settings.data_dir,
            "transformation_summary.json",
            {
                "transformation_timestamp": now_iso(),
                "records_processed": processed,
                "transformations_applied": [
                    "trim text fields",
                    "lower-case emails",
                    "digits-only phone numbers",
                    "title-case first and last names",
                    "canonical category and payment method spellings",
                    "line_total recomputed as round(quantity * unit_price * (1 - discount/100), 2)",
                    "total_amount reconciled to the sum of promoted line totals",
                    "profit_margin and price_category on products",
                    "latest version per customer and product (upsert); transactions and items "
                    "appended by id",
                ],
            },
        )
        return StepResult("production", records=sum(m.input for m in merges))

    def warehouse(self) -> StepResult:
        rows = build_warehouse(self.engine)
        return StepResult("warehouse", records=rows["warehouse.fact_sales"], detail=rows)

    def analytics(self) -> StepResult:
        summary = run_analytics(self.engine, self.settings.analytics_dir)
        return StepResult("analytics", records=summary["queries_executed"])

    # Running -----------------------------------------------------------------------

    def step(self, name: str) -> StepResult:
        """Run one step by name, timed, and record its result."""
        action: Callable[[], StepResult] = getattr(self, name)
        began = time.perf_counter()
        try:
            result = action()
        except PipelineError as error:
            result = StepResult(name, status="failed", error_message=str(error))
        result.seconds = time.perf_counter() - began
        self.results.append(result)
        if result.status != "success":
            raise PipelineError(f"{name}: {result.error_message}")
        return result

    def run(self, rebuild: bool = False) -> list[StepResult]:
        """Every step in order; writes `pipeline_execution_report.json` whatever happens."""
        started_at = now_iso()
        began = time.perf_counter()
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        errors: list[str] = []
        try:
            if rebuild:
                self.engine.drop_all()
            steps = STEPS if self.settings.input_dir is None else STEPS[1:]
            for name in steps:
                self.step(name)
        except PipelineError as error:
            errors.append(str(error))
            raise
        finally:
            self.close()
            self._write_execution_report(started_at, time.perf_counter() - began, errors)
        return self.results

    def _write_execution_report(self, started_at: str, seconds: float, errors: list[str]) -> None:
        write_report(
            self.settings.data_dir,
            "pipeline_execution_report.json",
            {
                "pipeline_execution_id": self.run_id,
                "start_time": started_at,
                "end_time": now_iso(),
                "total_duration_seconds": round(seconds, 3),
                "status": "failed" if errors else "success",
                "steps_executed": {
                    r.name: {
                        "status": r.status,
                        "duration_seconds": round(r.seconds, 3),
                        "records_processed": r.records,
                        "error_message": r.error_message,
                        "retry_attempts": r.retry_attempts,
                    }
                    for r in self.results
                },
                "data_quality_summary": {},
                "errors": errors,
                "warnings": [],
            },
        )
