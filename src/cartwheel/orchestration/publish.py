"""Atomic publish of a run's outputs, and recovery of a run that was killed.

A run writes its reports and analytics into `<data_dir>/.work/` (mirroring the data
folder) while the engine builds the next warehouse privately. Publishing:

1. `engine.seal()` — the next warehouse is complete and durable, still invisible;
2. the marker `.work/PUBLISHING` is written — from here on the run is committed;
3. `engine.publish()` — readers see the new warehouse at once (DuckDB: a rename);
4. the files and folders are renamed from `.work/` into the data folder (a folder such
   as `analytics/` is swapped whole), then `.work/` is removed.

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
from cartwheel.files import fsync_path

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

    def entries(self, everything: bool) -> list[Path]:
        """What to publish: the work folder's top-level files and, for a successful run,
        its folders (a failed run publishes its reports, never its data)."""
        if not self.root.exists():
            return []
        return sorted(
            path
            for path in self.root.iterdir()
            if path.name != MARKER
            and not path.name.startswith(".")
            and (path.is_file() or (everything and path.is_dir()))
        )

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
        """Rename each entry into the data folder. A folder (analytics) is swapped whole:
        the old one is renamed away first, so a reader finds the old set, briefly none,
        or the new set, never a mix. Repeatable after a crash."""
        for index, entry in enumerate(self.entries(everything)):
            target = self.data_dir / entry.name
            if entry.is_dir() and target.exists():
                os.replace(target, self.root / f".old-{entry.name}")
            os.replace(entry, target)
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
