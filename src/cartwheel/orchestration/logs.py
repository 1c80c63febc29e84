"""Logging: one human-readable console stream (rich) and one JSON-lines file per run."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler

from cartwheel.terminal import visible

LOGGER = "cartwheel"
LOG_DIR = "logs"
# Events whose failure the command itself reports, as its one `error:` line: on the
# terminal they would say it twice more (the run log keeps them).
REPORTED_BY_THE_COMMAND = frozenset({"step_attempt", "run_finished", "history_failed"})


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, message, and the record's `data`."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("run_id", "event", "data"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        return json.dumps(entry, default=str)


def logger() -> logging.Logger:
    return logging.getLogger(LOGGER)


class TerminalHandler(RichHandler):
    """Rich's handler with the message's control characters made visible (a path or a
    raw line quoted in a message must not restyle or rewrite the terminal)."""

    def render_message(self, record: logging.LogRecord, message: str):  # noqa: ANN201
        return super().render_message(record, visible(message))


def console_logging(level: int = logging.INFO) -> None:
    """Send cartwheel's log records to stderr through rich (once per process)."""
    log = logger()
    log.setLevel(logging.DEBUG)
    log.propagate = False
    if not any(isinstance(h, RichHandler) for h in log.handlers):
        handler = TerminalHandler(
            console=Console(stderr=True),
            show_path=False,
            rich_tracebacks=False,
            markup=False,
        )
        # Progress of long steps shows whatever the level (see cartwheel.progress).
        handler.setLevel(min(level, logging.INFO))
        handler.addFilter(lambda record: _for_the_terminal(record, level))
        log.addHandler(handler)


def _for_the_terminal(record: logging.LogRecord, level: int) -> bool:
    event = getattr(record, "event", "")
    if record.levelno >= logging.ERROR and event in REPORTED_BY_THE_COMMAND:
        return False
    return record.levelno >= level or event == "progress"


class RunLog:
    """The JSON-lines log file of one run, attached to the cartwheel logger while open."""

    def __init__(self, data_dir: Path, run_id: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.path = data_dir / LOG_DIR / f"run-{stamp}-{run_id[:8]}.jsonl"
        self.run_id = run_id
        self._handler: logging.FileHandler | None = None

    def open(self) -> RunLog:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handler = logging.FileHandler(self.path, encoding="utf-8")
        self._handler.setFormatter(JsonLines())
        self._handler.setLevel(logging.DEBUG)
        self._handler.addFilter(self._with_run_id)
        log = logger()
        log.setLevel(logging.DEBUG)
        log.propagate = False
        log.addHandler(self._handler)
        return self

    def _with_run_id(self, record: logging.LogRecord) -> bool:
        """Every record in the file names the run, also those logged without it."""
        if not hasattr(record, "run_id"):
            record.run_id = self.run_id
        return True

    def close(self) -> None:
        if self._handler is not None:
            logger().removeHandler(self._handler)
            self._handler.close()
            self._handler = None

    def event(self, level: int, message: str, event: str, **data: object) -> None:
        """Log `message`; the file also gets the event name and its data."""
        logger().log(level, message, extra={"run_id": self.run_id, "event": event, "data": data})


def read_events(path: Path, event: str) -> list[dict]:
    """The `data` of every record of one event in a run's log (a missing file: none)."""
    found = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return found
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut short by a kill
        if entry.get("event") == event:
            found.append(entry.get("data") or {})
    return found
