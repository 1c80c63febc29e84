"""Faults around a run: kill -9 at random moments of an incremental run (daily batches),
then a re-run, must equal the uninterrupted run; a full disk fails one line and recovers.

CARTWHEEL_KILLS sets how many kills the slow test makes (default 25); the fast test makes
two. CARTWHEEL_KILL_SEED fixes the random moments (default 17).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.reliability.base import write_days

KILLS = int(os.environ.get("CARTWHEEL_KILLS", "25"))
SEED = int(os.environ.get("CARTWHEEL_KILL_SEED", "17"))

STATE_SQL = """select
    (select count(*) from production.customers),
    (select count(*) from production.transactions),
    (select count(*) from production.transaction_items),
    (select sum(line_total) from production.transaction_items),
    (select count(*) from warehouse.dim_customers),
    (select count(*) from warehouse.fact_sales),
    (select sum(line_total) from warehouse.fact_sales),
    (select count(*) from ops.processed_batches where processed_at is not null),
    (select count(*) from ops.quarantine where released_at is null)"""


def start(input_dir: Path, data_dir: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "cartwheel.cli", "run", "--input", str(input_dir)]
        + ["--data-dir", str(data_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(input_dir: Path, data_dir: Path) -> tuple[int, str]:
    process = start(input_dir, data_dir)
    _, err = process.communicate(timeout=600)
    return process.returncode, err


def state(data_dir: Path) -> tuple:
    con = duckdb.connect(str(data_dir / "cartwheel.duckdb"), read_only=True)
    try:
        return con.execute(STATE_SQL).fetchall()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple, float]:
    """The batches, the state after an uninterrupted run, and how long that run took."""
    root = tmp_path_factory.mktemp("faults")
    batches = write_days(root / "batches")
    began = time.perf_counter()
    code, err = finish(batches, root / "reference")
    assert code == 0, err
    return batches, state(root / "reference"), time.perf_counter() - began


def kill_and_rerun(reference, tmp_path: Path, kills: int) -> None:
    batches, expected, seconds = reference
    moments = random.Random(SEED)
    for number in range(kills):
        data_dir = tmp_path / f"run{number}"
        process = start(batches, data_dir)
        time.sleep(moments.uniform(0.05, seconds))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        code, err = finish(batches, data_dir)
        assert code == 0 and "Traceback" not in err, (number, err)
        assert state(data_dir) == expected, f"kill {number} (seed {SEED})"
        shutil.rmtree(data_dir)


def test_killed_twice_then_rerun_equals_an_uninterrupted_run(reference, tmp_path: Path) -> None:
    kill_and_rerun(reference, tmp_path, 2)


@pytest.mark.slow
def test_killed_many_times_then_rerun_equals_an_uninterrupted_run(
    reference, tmp_path: Path
) -> None:
    kill_and_rerun(reference, tmp_path, KILLS)


@pytest.fixture()
def small_disk(tmp_path: Path):
    """A 64 MB tmpfs (skipped where mounting is not allowed)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount_point)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + mounted.stderr.decode().strip())
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_disk_full_fails_one_line_keeps_the_last_good_state_and_recovers(
    reference, small_disk: Path
) -> None:
    batches, expected, _ = reference
    first_day = small_disk / "first"
    first_day.mkdir()
    shutil.copytree(batches / "2024-01-12", first_day / "2024-01-12")
    data_dir = small_disk / "data"
    code, err = finish(first_day, data_dir)
    assert code == 0, err
    good = state(data_dir)
    free = shutil.disk_usage(small_disk).free
    filler = small_disk / "filler"
    with filler.open("wb") as handle:  # leave 200 kB: too little for the next run
        handle.truncate(0)
        handle.write(b"\0" * (free - 200_000))
    code, err = finish(batches, data_dir)
    assert code != 0
    # One error line, last; the run's own warnings may precede it (the run no longer
    # copies the warehouse first, so it gets as far as publishing before the disk is full).
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error")]
    assert errors == [lines[-1]] and lines[-1].startswith("error: "), err
    assert "No space left on device" in lines[-1] or "disk" in lines[-1].lower(), lines[-1]
    assert state(data_dir) == good  # the failed run published nothing
    filler.unlink()
    code, err = finish(batches, data_dir)
    assert code == 0, err
    assert state(data_dir) == expected
