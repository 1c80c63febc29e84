"""Atomic publish of a run's outputs, and recovery of a run that was killed.

A run writes its reports and analytics into `<data_dir>/.work/` (mirroring the data
folder) while the engine builds the next warehouse privately. Publishing:

1. `engine.seal()` — the next warehouse is complete and durable, still invisible;
2. the marker `.work/PUBLISHING` is written — from here on the run is committed;
3. `engine.publish()` — readers see the new warehouse at once (DuckDB: a rename);
4. the files are renamed from `.work/` into the data folder, then `.work/` is removed.

A run killed before step 2 is rolled back by the next run (its work is discarded); a run
killed after it is rolled forward (steps 3 and 4 are repeated; both are idempotent).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

from cartwheel.config import Settings
from cartwheel.engines import Engine, recover_publish
from cartwheel.engines.base import fsync_path

WORK_DIR = ".work"
MARKER = "PUBLISHING"
FAILPOINT_ENV = "CARTWHEEL_FAILPOINT"


def failpoint(name: str) -> None:
    """Kill this process here if `$CARTWHEEL_FAILPOINT` names this point (crash tests)."""
    if os.environ.get(FAILPOINT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


class Workspace:
    """The private folder where a run's files wait to be published."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.root = data_dir / WORK_DIR

    @property
    def marker(self) -> Path:
        return self.root / MARKER

    def begin(self) -> None:
        """An empty work folder (call after `recover()`)."""
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)

    def files(self, everything: bool) -> list[Path]:
        """Files to publish, relative to the work folder: all of them, or only the
        top-level reports (a failed run publishes its reports, never its data)."""
        if not self.root.exists():
            return []
        found = self.root.rglob("*") if everything else self.root.glob("*")
        return sorted(p.relative_to(self.root) for p in found if p.is_file() and p.name != MARKER)

    def commit(self, engine: Engine, everything: bool) -> None:
        """Publish the engine's run and the work folder's files (steps 1–4 above)."""
        engine.seal()
        failpoint("after_seal")
        tmp = self.marker.with_suffix(".tmp")
        tmp.write_text(json.dumps({"everything": everything}))
        os.replace(tmp, self.marker)
        fsync_path(self.root)
        failpoint("after_marker")
        engine.publish()
        failpoint("after_engine_publish")
        self._move_files(everything)

    def _move_files(self, everything: bool) -> None:
        for index, relative in enumerate(self.files(everything)):
            target = self.data_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.root / relative, target)
            if index == 0:
                failpoint("after_first_file")
        fsync_path(self.data_dir)
        shutil.rmtree(self.root)

    def recover(self, settings: Settings) -> str | None:
        """Finish or undo what a killed run left; returns what was done, or None."""
        if not self.root.exists():
            return None
        if self.marker.exists():
            everything = json.loads(self.marker.read_text() or "{}").get("everything", True)
            recover_publish(settings)
            self._move_files(everything)
            return "finished publishing the outputs of an interrupted run"
        shutil.rmtree(self.root)
        return "discarded the unpublished work of an interrupted run"
