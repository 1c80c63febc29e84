"""`cartwheel schedule`: cron fire times in a time zone, waiting, skipping while locked,
and retention after each run."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from typer.testing import CliRunner

from cartwheel.cli import app
from cartwheel.config import Settings
from cartwheel.generate import generate
from cartwheel.orchestration import schedule
from cartwheel.orchestration.lock import RunLock, new_holder
from cartwheel.orchestration.schedule import fire_times, retention, run_once, serve

BERLIN = ZoneInfo("Europe/Berlin")


def test_default_schedule_is_daily_at_two_in_the_configured_zone() -> None:
    settings = Settings()
    assert (settings.schedule_cron, settings.schedule_timezone) == ("0 2 * * *", "UTC")
    after = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
    times = fire_times("0 2 * * *", "UTC", after)
    assert [next(times) for _ in range(2)] == [
        datetime(2026, 1, 11, 2, 0, tzinfo=UTC),
        datetime(2026, 1, 12, 2, 0, tzinfo=UTC),
    ]
    # 02:00 in Berlin is 01:00 UTC in winter and 00:00 UTC in summer.
    winter = next(fire_times("0 2 * * *", "Europe/Berlin", after))
    assert winter.astimezone(UTC) == datetime(2026, 1, 11, 1, 0, tzinfo=UTC)
    summer = next(fire_times("0 2 * * *", "Europe/Berlin", datetime(2026, 6, 30, 12, tzinfo=UTC)))
    assert summer.astimezone(UTC) == datetime(2026, 7, 1, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("CARTWHEEL_SCHEDULE_CRON", "every night", "bad cron expression"),
        ("CARTWHEEL_SCHEDULE_TIMEZONE", "Mars/Olympus", "unknown time zone"),
    ],
)
def test_a_bad_cron_or_zone_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, key: str, value: str, message: str
) -> None:
    monkeypatch.setenv(key, value)
    result = CliRunner().invoke(app, ["schedule", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_serve_sleeps_until_the_next_fire_time_then_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    now = [datetime(2026, 3, 1, 23, 30, tzinfo=BERLIN)]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += timedelta(seconds=seconds)

    ran_at: list[datetime] = []
    monkeypatch.setattr(schedule, "run_once", lambda s: ran_at.append(now[0]) or "success")
    settings = Settings(data_dir=tmp_path, schedule_timezone="Europe/Berlin")
    assert serve(settings, max_cycles=2, clock=lambda: now[0], sleep=sleep) == [
        "success",
        "success",
    ]
    assert ran_at == [
        datetime(2026, 3, 2, 2, 0, tzinfo=BERLIN),
        datetime(2026, 3, 3, 2, 0, tzinfo=BERLIN),
    ]
    assert max(slept) <= 60  # short slices: a changed clock is noticed
    assert sum(slept) == pytest.approx((2.5 + 24) * 3600)


def age(path: Path, days: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    moment = (datetime.now(UTC) - timedelta(days=days)).timestamp()
    os.utime(path, (moment, moment))
    return path


def test_retention_deletes_only_expired_raw_staging_and_log_files(tmp_path: Path) -> None:
    expired = [
        age(tmp_path / "raw" / "2026-01-01" / "transactions.csv", 10),
        age(tmp_path / "staging" / "customers.parquet", 8),
        age(tmp_path / "logs" / "run-20260101T020000Z-abc.jsonl", 30),
    ]
    kept = [
        age(tmp_path / "raw" / "2026-01-09" / "transactions.csv", 6),  # within 7 days
        age(tmp_path / "raw" / "generation_metadata.json", 40),  # name says metadata
        age(tmp_path / "logs" / "weekly_summary.txt", 40),
        age(tmp_path / "logs" / "quality_REPORT.json", 40),
        age(tmp_path / "analytics" / "query1_top_products.csv", 40),  # not a retained folder
        age(tmp_path / "cartwheel.duckdb", 40),
        age(tmp_path / "raw" / "today.csv", 0),
    ]
    deleted = retention(Settings(data_dir=tmp_path))
    assert sorted(deleted) == sorted(expired)
    assert all(not p.exists() for p in expired)
    assert all(p.exists() for p in kept)
    assert not (tmp_path / "raw" / "2026-01-01").exists()  # emptied folder removed


def test_retention_with_zero_days_keeps_todays_files(tmp_path: Path) -> None:
    today = age(tmp_path / "logs" / "run-today.jsonl", 0)
    yesterday = age(tmp_path / "logs" / "run-old.jsonl", 1.5)
    assert retention(Settings(data_dir=tmp_path, retention_days=0)) == [yesterday]
    assert today.exists()


def test_a_cycle_skips_the_run_while_locked_and_still_applies_retention(tmp_path: Path) -> None:
    old_log = age(tmp_path / "logs" / "run-old.jsonl", 9)
    lock = RunLock(tmp_path)
    lock.acquire(new_holder("other-run", "2026-01-01T00:00:00+00:00"))
    try:
        assert run_once(Settings(data_dir=tmp_path)) == "skipped"
    finally:
        lock.release()
    assert not old_log.exists()
    assert not (tmp_path / "cartwheel.duckdb").exists()


def test_schedule_run_now_runs_once_records_the_trigger_and_applies_retention(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    generate(tmp_path / "shop", scale=0.05, seed=4)
    old_log = age(tmp_path / "data" / "logs" / "run-old.jsonl", 9)
    monkeypatch.setenv("CARTWHEEL_INPUT_DIR", str(tmp_path / "shop"))
    result = CliRunner().invoke(
        app, ["schedule", "--run-now", "--cycles", "1", "--data-dir", str(tmp_path / "data")]
    )
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(tmp_path / "data" / "cartwheel.duckdb"), read_only=True)
    runs = con.execute("select trigger, status from ops.pipeline_runs").fetchall()
    con.close()
    assert runs == [("schedule", "success")]
    assert not old_log.exists()
    assert len(list((tmp_path / "data" / "logs").glob("run-*.jsonl"))) == 1
