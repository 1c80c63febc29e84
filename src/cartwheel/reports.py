"""Write the JSON reports of a run into the data folder."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def iso(moment: datetime | None) -> str | None:
    """A naive UTC moment (as the run history keeps them) in ISO 8601 with its zone."""
    return None if moment is None else moment.isoformat(timespec="milliseconds") + "+00:00"


def write_report(data_dir: Path, name: str, content: dict[str, Any]) -> Path:
    """Write `<data_dir>/<name>` as indented JSON and return its path."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / name
    path.write_text(json.dumps(content, indent=2, default=str) + "\n")
    return path
