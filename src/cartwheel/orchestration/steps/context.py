"""What a step is given (its context) and what it gives back (its output)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cartwheel.config import Settings
from cartwheel.engines import Engine
from cartwheel.reports import write_report

if TYPE_CHECKING:
    from cartwheel.ingest.batches import Batch


class PipelineError(Exception):
    """A step failed in a way the user can act on; the message says how."""


class StepStopped(PipelineError):
    """A step stopped the run on purpose (the quality gate); `keep` records what it found
    in the history that a failed run still publishes."""

    def __init__(self, message: str, keep: Callable[[Engine], None]) -> None:
        super().__init__(message)
        self.keep = keep


@dataclass
class StepResult:
    """One step of a run (all its batches and attempts), as reports and history show it."""

    name: str
    status: str = "success"
    seconds: float = 0.0
    records: int = 0
    rows_in: int | None = None
    error_message: str | None = None
    retry_attempts: int = 0
    stopped: StepStopped | None = None


@dataclass
class StepOutput:
    """What one try of a step did: rows handled (or a table's rows) and the reports it wrote."""

    records: int
    rows_in: int | None = None


@dataclass
class StepContext:
    """Everything a step may use. Steps write files under `output_dir` (the run's work
    folder, published with the run) and use `engine`, the run's private view."""

    settings: Settings
    engine: Engine
    run_id: str
    output_dir: Path
    started_at: datetime
    #: The steps finished so far (the dashboard shows them).
    results: list[StepResult] = field(default_factory=list)
    #: The batch being loaded; None for a step run on its own.
    batch: Batch | None = None
    #: The reports of a run over several batches, held until its last batch (each
    #: batch would otherwise write the run's whole report so far again); None outside.
    held_reports: dict[str, dict] | None = None
    #: The conservation rows the quality step found for the batch being loaded (production
    #: reads staging only, so its counts are the same); None before quality has run.
    conservation: list[dict] | None = None
    #: The schemas, production tables, ops.quarantine, ops.processed_batches and the
    #: vocabulary tables exist: the steps of an earlier batch of this run created them
    #: (committed, outside any transaction), so later batches skip that DDL.
    tables_ready: bool = False

    def write_report(self, name: str, content: dict) -> None:
        """`name` in the output folder, or held while batches run (`flush_reports`)."""
        if self.held_reports is None:
            write_report(self.output_dir, name, content)
        else:
            self.held_reports[name] = content

    def earlier_report(self, name: str) -> dict:
        """The report `name` of this run's earlier batches (empty for the first)."""
        return (self.held_reports or {}).get(name, {})

    def flush_reports(self) -> None:
        """Write the held reports; reports are written at once from here on."""
        held, self.held_reports = self.held_reports or {}, None
        for name, content in held.items():
            write_report(self.output_dir, name, content)

    @property
    def input_dir(self) -> Path:
        return self.settings.input_dir or self.settings.raw_dir

    @property
    def batch_folder(self) -> Path:
        """The raw files of the batch being loaded (the input folder outside a batch)."""
        return self.batch.folder if self.batch is not None else self.input_dir

    @property
    def analytics_dir(self) -> Path:
        return self.output_dir / self.settings.analytics_dir.relative_to(self.settings.data_dir)
