"""OpenLineage run events for each run and each step (START, then COMPLETE or FAIL).

The run is the job `<namespace>.run`; each step attempt is a run of the job
`<namespace>.<step>` whose ParentRunFacet points at the pipeline's run, and carries the
step's input and output datasets: the raw files, the tables (`schema.table` in the
database's namespace) and the analytics and dashboard files.

Events are built from the pipeline's own log events (run_started, step_started,
step_attempt, run_finished), so a handler on the run's logger is the only hook. They are
appended to `openlineage.jsonl` in the data folder, or POSTed to `lineage.url`; an
endpoint that stays down is logged once, and the rest of the run's events go to the file.
"""

from __future__ import annotations

import json
import logging
import socket
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cartwheel import __version__
from cartwheel.contract import ENTITIES
from cartwheel.engines import engine_class
from cartwheel.orchestration.steps import STEPS

if TYPE_CHECKING:
    from cartwheel.orchestration.pipeline import Pipeline

EVENTS_FILE = "openlineage.jsonl"
PRODUCER = f"urn:cartwheel:{__version__}"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACETS = "https://openlineage.io/spec/facets"
PARENT_FACET = f"{FACETS}/1-1-0/ParentRunFacet.json#/$defs/ParentRunFacet"
ERROR_FACET = f"{FACETS}/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"

log = logging.getLogger("cartwheel.lineage")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def facet(schema_url: str, **fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": schema_url, **fields}


class LineageEmitter(logging.Handler):
    """Turns one pipeline run's log events into OpenLineage events and sends them."""

    def __init__(self, pipeline: Pipeline) -> None:
        super().__init__(logging.INFO)
        self.pipeline = pipeline
        self.settings = pipeline.settings.lineage
        self.path = pipeline.settings.data_dir / EVENTS_FILE
        self.url = self.settings.url
        self.host = socket.gethostname()
        self.step_runs: dict[str, str] = {}  # step -> run id of its current attempt
        self.inputs: dict[str, dict] = {}  # every dataset of the run, for its last event
        self.outputs: dict[str, dict] = {}
        self._sending = False

    # Datasets ----------------------------------------------------------------------

    def table(self, name: str) -> dict[str, Any]:
        settings = self.pipeline.settings
        namespace, qualified = engine_class(settings).lineage_dataset(settings, name)
        return {"namespace": namespace, "name": qualified}

    def file(self, path: Path) -> dict[str, Any]:
        return {"namespace": f"file://{self.host}", "name": str(path.resolve())}

    def raw_files(self, folder: Path) -> list[dict[str, Any]]:
        return [
            self.file(path)
            for entity in ENTITIES
            for path in (folder / f"{entity}.csv", folder / f"{entity}.parquet")
            if path.exists()
        ]

    def published_files(self, folder: Path, pattern: str) -> list[dict[str, Any]]:
        """Files the step wrote into the run's work folder, named where they are published."""
        work, data = self.pipeline.output_dir, self.pipeline.settings.data_dir
        return [self.file(data / path.relative_to(work)) for path in sorted(folder.glob(pattern))]

    def datasets(self, step: str, finished: bool) -> tuple[list[dict], list[dict]]:
        declared = STEPS.get(step)
        inputs = [self.table(name) for name in (declared.reads if declared else ())]
        outputs = [self.table(name) for name in (declared.writes if declared else ())]
        p = self.pipeline
        if step == "generate" and finished:
            outputs += self.raw_files(p.settings.raw_dir)
        elif step == "ingest":
            inputs += self.raw_files(p.context.batch_folder)
        elif step == "analytics" and finished:
            outputs += self.published_files(p.context.analytics_dir, "*")
        elif step == "dashboard" and finished:
            outputs += self.published_files(p.output_dir, "dashboard*")
        return inputs, outputs

    # Events ------------------------------------------------------------------------

    def event(
        self,
        event_type: str,
        job: str,
        run_id: str,
        inputs: list[dict] | None = None,
        outputs: list[dict] | None = None,
        run_facets: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return {
            "eventType": event_type,
            "eventTime": now(),
            "run": {"runId": run_id, "facets": run_facets or {}},
            "job": {"namespace": self.settings.namespace, "name": f"cartwheel.{job}"},
            "inputs": inputs or [],
            "outputs": outputs or [],
            "producer": PRODUCER,
            "schemaURL": SCHEMA_URL,
        }

    def parent(self) -> dict[str, Any]:
        return {
            "parent": facet(
                PARENT_FACET,
                run={"runId": self.pipeline.run_id},
                job={"namespace": self.settings.namespace, "name": "cartwheel.run"},
            )
        }

    def emit(self, record: logging.LogRecord) -> None:
        if self._sending or getattr(record, "run_id", None) != self.pipeline.run_id:
            return
        name, data = getattr(record, "event", None), getattr(record, "data", None) or {}
        try:
            self._sending = True  # what sending logs is not turned into events
            if name == "run_started":
                self.send(self.event("START", "run", self.pipeline.run_id))
            elif name == "step_started":
                self.step_started(str(data["step"]))
            elif name == "step_attempt":
                self.step_finished(data)
            elif name == "run_finished":
                self.run_finished(str(data.get("status")), record.getMessage())
        except Exception:  # noqa: BLE001 - lineage must never break the run it describes
            self.handleError(record)
        finally:
            self._sending = False

    def step_started(self, step: str) -> None:
        run_id = self.step_runs[step] = str(uuid.uuid4())
        inputs, outputs = self.datasets(step, finished=False)
        self.send(self.event("START", step, run_id, inputs, outputs, self.parent()))

    def step_finished(self, attempt: dict[str, Any]) -> None:
        step = str(attempt["step"])
        run_id = self.step_runs.pop(step, None) or str(uuid.uuid4())
        inputs, outputs = self.datasets(step, finished=attempt["status"] == "success")
        facets = self.parent()
        if attempt["status"] == "success":
            self.inputs |= {d["namespace"] + d["name"]: d for d in inputs}
            self.outputs |= {d["namespace"] + d["name"]: d for d in outputs}
            self.send(self.event("COMPLETE", step, run_id, inputs, outputs, facets))
        else:
            facets["errorMessage"] = facet(
                ERROR_FACET,
                message=str(attempt.get("error_message") or "failed"),
                programmingLanguage="python",
            )
            self.send(self.event("FAIL", step, run_id, inputs, outputs, facets))

    def run_finished(self, status: str, message: str) -> None:
        # The run reads what it did not make itself (raw files given with --input).
        read = [d for key, d in self.inputs.items() if key not in self.outputs]
        produced = list(self.outputs.values())
        if status == "success":
            self.send(self.event("COMPLETE", "run", self.pipeline.run_id, read, produced))
            return
        error = {"errorMessage": facet(ERROR_FACET, message=message, programmingLanguage="python")}
        kind = "ABORT" if status == "interrupted" else "FAIL"
        self.send(self.event(kind, "run", self.pipeline.run_id, read, produced, error))

    # Transport ---------------------------------------------------------------------

    def send(self, event: dict[str, Any]) -> None:
        if self.url is not None:
            from cartwheel.alerts import describe, post_json, retrying, webhook_name

            key = self.settings.api_key
            headers = {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}
            secrets = [key.get_secret_value()] if key else []
            try:
                for attempt in retrying(3, "lineage", secrets):
                    with attempt:
                        post_json(self.url, event, self.settings.timeout_seconds, headers)
                return
            except Exception as error:  # noqa: BLE001 - keep the event in the file instead
                log.warning(
                    "lineage endpoint %s not reachable (%s): this run's events go to %s",
                    webhook_name(self.url),
                    describe(error, secrets),
                    self.path,
                )
                self.url = None
        with self.path.open("a", encoding="utf-8") as events:
            events.write(json.dumps(event, separators=(",", ":")) + "\n")


def attach(pipeline: Pipeline) -> LineageEmitter | None:
    """Start emitting the run's lineage (None when turned off); detach with `detach`."""
    if not pipeline.settings.lineage.enabled:
        return None
    emitter = LineageEmitter(pipeline)
    logging.getLogger("cartwheel").addHandler(emitter)
    return emitter


def detach(emitter: LineageEmitter | None) -> None:
    if emitter is not None:
        logging.getLogger("cartwheel").removeHandler(emitter)
