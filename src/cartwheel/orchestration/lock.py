"""One writer per data folder: an exclusive lock on `<data_dir>/.cartwheel.lock`.

The kernel holds the lock (flock), so it vanishes with its process, even one killed with
SIGKILL. The file also names its holder (pid, run id, start time, log file): a clean exit
empties it, so a holder's details still there on acquire mean the last run died, and the
new run takes over and records the dead run as interrupted.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

LOCK_FILE = ".cartwheel.lock"


class LockBusy(Exception):
    """Another live process holds the lock."""


@dataclass
class LockHolder:
    pid: int
    run_id: str
    started_at: str
    host: str = ""
    log_file: str = ""

    def describe(self) -> str:
        host = self.host or "this host"
        return f"pid {self.pid} on {host}, run {self.run_id}, since {self.started_at}"


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """The single-writer lock of one data folder."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None
        #: The holder found in the file when the lock was taken over from a dead run.
        self.stale: LockHolder | None = None

    def _read(self, fd: int) -> LockHolder | None:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 65536).decode("utf-8", "replace").strip()
        if not text:
            return None
        try:
            return LockHolder(**json.loads(text))
        except (ValueError, TypeError):
            return LockHolder(pid=-1, run_id="unknown", started_at="unknown")

    def holder(self) -> LockHolder | None:
        """Who holds the lock now, or None if nobody does (read without locking)."""
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return self._read(fd) or LockHolder(pid=-1, run_id="unknown", started_at="")
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def acquire(self, holder: LockHolder, wait: bool = False, timeout: float | None = None) -> None:
        """Take the lock, or raise LockBusy (at once, or after `timeout` when waiting)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait or (deadline is not None and time.monotonic() >= deadline):
                    current = self._read(fd)
                    os.close(fd)
                    who = current.describe() if current else "another process"
                    raise LockBusy(
                        f"another cartwheel run is in progress ({who}); "
                        "try again later or pass --wait"
                    ) from None
                time.sleep(0.2)
        previous = self._read(fd)
        if previous is not None and not (previous.pid == os.getpid() and pid_alive(previous.pid)):
            self.stale = previous
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(asdict(holder)).encode())
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        """Empty the file (a clean exit) and let go."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def new_holder(run_id: str, started_at: str, log_file: str = "") -> LockHolder:
    return LockHolder(
        pid=os.getpid(),
        run_id=run_id,
        started_at=started_at,
        host=socket.gethostname(),
        log_file=log_file,
    )
