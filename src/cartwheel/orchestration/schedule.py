"""`cartwheel schedule`: run the pipeline on a cron schedule, then apply retention.

A run that finds the lock held is skipped (the next fire time comes round anyway).
Retention deletes raw/staging files and logs older than `retention_days`,
never a file whose name contains `summary`, `report` or `metadata`, nor one from today.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cronsim import CronSim

from cartwheel.config import Settings
from cartwheel.orchestration.lock import LockBusy
from cartwheel.orchestration.logs import LOG_DIR, logger
from cartwheel.orchestration.pipeline import Pipeline, PipelineError

KEEP_WORDS = ("summary", "report", "metadata")
# Folders under the data folder whose old files retention deletes.
RETAINED_FOLDERS = ("raw", "staging", LOG_DIR)


def fire_times(cron: str, timezone: str, after: datetime) -> Iterator[datetime]:
    """The schedule's fire times after `after`, as aware datetimes in `timezone`."""
    return CronSim(cron, after.astimezone(ZoneInfo(timezone)))


def retention(settings: Settings, now: datetime | None = None) -> list[Path]:
    """Delete expired files; return what was deleted. `now` is aware (default: now)."""
    zone = ZoneInfo(settings.schedule_timezone)
    now = (now or datetime.now(zone)).astimezone(zone)
    cutoff = (now - timedelta(days=settings.retention_days)).timestamp()
    today = now.date()
    deleted = []
    for folder in RETAINED_FOLDERS:
        root = settings.data_dir / folder
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if not path.is_file() or any(word in path.name.lower() for word in KEEP_WORDS):
                continue
            modified = path.stat().st_mtime
            if modified >= cutoff or datetime.fromtimestamp(modified, zone).date() == today:
                continue
            path.unlink()
            deleted.append(path)
        for folder_path in sorted(root.rglob("*"), reverse=True):  # empty folders left behind
            if folder_path.is_dir() and not any(folder_path.iterdir()):
                folder_path.rmdir()
    return deleted


def run_once(settings: Settings) -> str:
    """One scheduled cycle: the pipeline (unless locked), then retention. Returns the outcome."""
    log = logger()
    pipeline = Pipeline(settings, trigger="schedule")
    try:
        pipeline.run()
        outcome = "success"
        log.info("scheduled run %s succeeded", pipeline.run_id)
    except LockBusy as error:
        outcome = "skipped"
        log.warning("scheduled run skipped: %s", error)
    except PipelineError as error:
        outcome = "failed"
        log.error("scheduled run %s failed: %s", pipeline.run_id, error)
    deleted = retention(settings)
    log.info(
        "retention: deleted %d file(s) older than %d day(s)%s",
        len(deleted),
        settings.retention_days,
        "".join(f"\n  {path}" for path in deleted[:20]),
    )
    return outcome


def stop_on_sigterm() -> None:
    """Let `systemctl stop` (SIGTERM) end the scheduler like Ctrl-C: a run in progress is
    recorded as interrupted and its unpublished work discarded."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def serve(
    settings: Settings,
    run_now: bool = False,
    max_cycles: int | None = None,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Loop: wait for the next fire time, run a cycle; stop after `max_cycles` if given."""
    zone = ZoneInfo(settings.schedule_timezone)
    clock = clock or (lambda: datetime.now(zone))
    log = logger()
    outcomes: list[str] = []
    if run_now:
        outcomes.append(run_once(settings))
    while max_cycles is None or len(outcomes) < max_cycles:
        due = next(fire_times(settings.schedule_cron, settings.schedule_timezone, clock()))
        log.info("next run at %s (%s, %s)", due.isoformat(), settings.schedule_cron, zone.key)
        # Sleep in short slices so a changed clock (suspend, DST) is noticed.
        while (remaining := (due - clock()).total_seconds()) > 0:
            sleep(min(remaining, 60.0))
        outcomes.append(run_once(settings))
    return outcomes
