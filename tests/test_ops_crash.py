"""kill -9 at many moments of a run, then re-run: the result equals an uninterrupted run,
and between the kill and the re-run readers see the last good state, never a mix.

Each scenario starts from a warehouse built from shop export A, then loads export B:
the run is killed — in the middle of each step (found by watching the run's JSON-lines
log, so a loaded machine still hits every step), at timed moments, or at a named point
of the publish — the state is checked, B is loaded again, and everything is compared
with A-then-B uninterrupted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from cartwheel.generate import generate

pytestmark = pytest.mark.slow

# Reconciliation figures of the warehouse: counts and sums that any half-built or
# doubly-loaded state would change.
FINGERPRINT_SQL = {
    "production": """select
        (select count(*) from production.customers),
        (select count(*) from production.products),
        (select count(*) from production.transactions),
        (select count(*) from production.transaction_items),
        (select sum(line_total) from production.transaction_items)""",
    "fact_sales": """select count(*), sum(line_total), sum(profit), sum(quantity)
        from warehouse.fact_sales""",
    "dimensions": """select
        (select count(*) from warehouse.dim_customers),
        (select count(*) from warehouse.dim_customers where is_current),
        (select count(*) from warehouse.dim_products),
        (select count(*) from warehouse.dim_date)""",
    "aggregates": """select
        (select sum(total_transactions) from warehouse.agg_daily_sales),
        (select sum(total_revenue) from warehouse.agg_daily_sales),
        (select sum(total_quantity_sold) from warehouse.agg_product_performance),
        (select sum(total_spent) from warehouse.agg_customer_metrics)""",
}


def cli(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "cartwheel.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def run_ok(*args: str, env: dict | None = None) -> float:
    began = time.perf_counter()
    process = cli(*args, env=env)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return time.perf_counter() - began


def warehouse_state(data_dir: Path) -> dict:
    con = duckdb.connect(str(data_dir / "cartwheel.duckdb"), read_only=True)
    try:
        return {name: con.execute(sql).fetchall() for name, sql in FINGERPRINT_SQL.items()}
    finally:
        con.close()


def analytics_state(data_dir: Path) -> dict:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((data_dir / "analytics").glob("query*.csv"))
    }


def query_one(data_dir: Path, sql: str) -> object:
    con = duckdb.connect(str(data_dir / "cartwheel.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()[0][0]
    finally:
        con.close()


def run_statuses(data_dir: Path) -> list[str]:
    con = duckdb.connect(str(data_dir / "cartwheel.duckdb"), read_only=True)
    try:
        rows = con.execute("select status from ops.pipeline_runs order by started_at").fetchall()
    finally:
        con.close()
    return [row[0] for row in rows]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Exports A and B, the state after A, and the reference after A then B."""
    return build_world(tmp_path_factory.mktemp("crash"), {})


@pytest.fixture(scope="module")
def segmented_world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The same, with the large tables published as Parquet segments (a low threshold)."""
    return build_world(tmp_path_factory.mktemp("crash_segments"), SEGMENTED)


# Publish the lines, orders, facts and staged rows of exports A and B as segments.
SEGMENTED = {"CARTWHEEL_DUCKDB_SEGMENT_ROWS": "300"}


def build_world(root: Path, env: dict) -> dict:
    generate(root / "A", scale=0.1, seed=1)
    generate(root / "B", scale=0.1, seed=2)
    # B is a later export: changed customers and products (same ids), and new orders — an
    # order id sent again in a later batch is quarantined as a duplicate, so B's orders and
    # lines get ids of their own.
    for name in ("transactions.csv", "transaction_items.csv"):
        path = root / "B" / name
        path.write_text(path.read_text().replace("TXN", "TXB").replace("ITEM", "ITMB"))
    after_a = root / "after_a"
    run_ok("run", "--input", str(root / "A"), "--data-dir", str(after_a), env=env)
    reference = root / "reference"
    shutil.copytree(after_a, reference)
    seconds = run_ok("run", "--input", str(root / "B"), "--data-dir", str(reference), env=env)
    report = json.loads((reference / "pipeline_execution_report.json").read_text())
    world = {
        "env": env,
        "steps": {
            name: step["duration_seconds"] for name, step in report["steps_executed"].items()
        },
        "root": root,
        "B": root / "B",
        "after_a": after_a,
        "seconds": seconds,
        "A": (warehouse_state(after_a), analytics_state(after_a)),
        "AB": (warehouse_state(reference), analytics_state(reference)),
    }
    assert world["A"] != world["AB"]  # otherwise the checks below could not tell them apart
    return world


def wait_for_event(process: subprocess.Popen, logs: Path, known: set, event: str, step: str):
    """Poll the run's new JSON-lines log until it shows `event` (of `step`, if given)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        for log in set(logs.glob("*.jsonl")) - known:
            for line in log.read_text().splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                data = entry.get("data") or {}
                if entry.get("event") == event and (not step or data.get("step") == step):
                    return
        time.sleep(0.005)
    pytest.fail(f"the run ended before it logged {event} {step}")


def interrupted(
    world: dict,
    name: str,
    kill_after: float | None = None,
    failpoint: str = "",
    at_event: tuple[str, str] | None = None,
) -> tuple[Path, bool]:
    """A copy of the after-A folder in which the B run was killed: `kill_after` seconds
    after it started, or `kill_after` seconds after its log showed `at_event`, or by a
    failpoint. Returns the folder and whether the run died (rather than finished)."""
    data_dir = world["root"] / name
    shutil.copytree(world["after_a"], data_dir)
    known = set((data_dir / "logs").glob("*.jsonl"))
    env = {**world["env"], **({"CARTWHEEL_FAILPOINT": failpoint} if failpoint else {})}
    process = cli("run", "--input", str(world["B"]), "--data-dir", str(data_dir), env=env)
    if at_event is not None:
        wait_for_event(process, data_dir / "logs", known, *at_event)
    if kill_after is not None:
        time.sleep(kill_after)
        process.send_signal(signal.SIGKILL)
    process.communicate(timeout=300)
    return data_dir, process.returncode == -signal.SIGKILL


def assert_recovers(world: dict, data_dir: Path) -> tuple:
    """Between kill and re-run the state is A or A+B (each part whole); after the re-run
    it equals the uninterrupted reference. Returns the state seen after the kill."""
    seen = (warehouse_state(data_dir), analytics_state(data_dir))
    assert seen[0] in (world["A"][0], world["AB"][0])
    assert seen[1] in (world["A"][1], world["AB"][1])
    run_ok("run", "--input", str(world["B"]), "--data-dir", str(data_dir), env=world["env"])
    assert (warehouse_state(data_dir), analytics_state(data_dir)) == world["AB"]
    assert not (data_dir / ".work").exists()
    assert not (data_dir / ".cartwheel.next.duckdb").exists()
    return seen


STEPS = ("ingest", "quality", "production", "warehouse", "analytics", "dashboard")


@pytest.mark.parametrize("step", STEPS)
def test_killed_in_the_middle_of_a_step_then_rerun_equals_an_uninterrupted_run(
    world: dict, step: str
) -> None:
    if step not in world["steps"]:
        pytest.skip(f"this pipeline has no {step} step")
    # Half-way through the step, as long as it took in the uninterrupted run.
    data_dir, killed = interrupted(
        world, f"mid_{step}", world["steps"][step] / 2, at_event=("step_started", step)
    )
    assert killed
    assert_recovers(world, data_dir)
    statuses = run_statuses(data_dir)
    assert statuses[0] == statuses[-1] == "success" and len(statuses) == 3
    if statuses[1] == "interrupted":
        # Rebuilt from the killed run's log: the steps it had finished, in order — at least
        # those before this one (on a loaded machine the kill may land a step or two later).
        order = list(world["steps"])
        done = query_one(
            data_dir, "select steps from ops.pipeline_runs where status = 'interrupted'"
        )
        finished = done.split(",") if done else []
        assert finished == order[: len(finished)]
        assert len(finished) >= order.index(step)


@pytest.mark.parametrize(
    ("moment", "event"),
    [
        ("after_start", ("run_started", "")),  # the lock is held, the copy not yet made
        ("after_last_step", ("step_attempt", "")),  # among the history, seal and publish
    ],
)
def test_killed_between_steps_then_rerun_equals_an_uninterrupted_run(
    world: dict, moment: str, event: tuple[str, str]
) -> None:
    if moment == "after_last_step":
        event = ("step_attempt", list(world["steps"])[-1])
    data_dir, killed = interrupted(world, moment, 0.0, at_event=event)
    assert killed
    assert_recovers(world, data_dir)
    statuses = run_statuses(data_dir)
    assert statuses[0] == statuses[-1] == "success" and len(statuses) == 3


@pytest.mark.parametrize("fraction", [0.05, 0.6])
def test_killed_at_a_timed_moment_then_rerun_equals_an_uninterrupted_run(
    world: dict, fraction: float
) -> None:
    # 0.05: usually while Python starts, before the lock is taken.
    data_dir, _ = interrupted(world, f"timed_{fraction}", world["seconds"] * fraction)
    assert_recovers(world, data_dir)
    statuses = run_statuses(data_dir)
    assert statuses[0] == statuses[-1] == "success"
    assert set(statuses[1:-1]) <= {"interrupted", "success"}


@pytest.mark.parametrize(
    ("failpoint", "visible", "recovery"),
    [
        # complete but not committed: the next run rolls it back
        ("after_seal", False, "discarded"),
        # committed, nothing renamed yet: readers still see A; the next run rolls forward
        ("after_marker", False, "finished"),
        # warehouse renamed, files not yet: readers see the new warehouse
        ("after_engine_publish", True, "finished"),
        # the first entry moved (a whole folder or a report)
        ("after_first_file", True, "finished"),
    ],
)
def test_killed_inside_the_publish_is_rolled_back_or_forward(
    world: dict, failpoint: str, visible: bool, recovery: str
) -> None:
    data_dir, killed = interrupted(world, failpoint, None, failpoint)
    assert killed
    assert (data_dir / ".work").exists()
    seen = assert_recovers(world, data_dir)
    assert seen[0] == (world["AB"] if visible else world["A"])[0]
    report = json.loads((data_dir / "pipeline_execution_report.json").read_text())
    assert any(warning.startswith(recovery) for warning in report["warnings"])
    assert any(warning.startswith("took over the lock") for warning in report["warnings"])
    statuses = run_statuses(data_dir)
    # Rolled back: the killed run is on record as interrupted; rolled forward: as the
    # success it had recorded before its commit.
    assert statuses == [
        "success",
        "interrupted" if recovery == "discarded" else "success",
        "success",
    ]


@pytest.mark.parametrize(
    ("moment", "failpoint", "step"),
    [
        ("mid_production", "", "production"),
        ("mid_warehouse", "", "warehouse"),
        ("after_seal", "after_seal", ""),
        ("after_marker", "after_marker", ""),
        ("after_engine_publish", "after_engine_publish", ""),
    ],
)
def test_killed_with_segments_then_rerun_equals_an_uninterrupted_run(
    segmented_world: dict, moment: str, failpoint: str, step: str
) -> None:
    """The same recovery when large tables are Parquet segments behind the catalog's views."""
    world = segmented_world
    segments = world["after_a"] / ".published"
    assert any(path.name.startswith("warehouse.fact_sales.") for path in segments.iterdir())
    if step:
        data_dir, killed = interrupted(
            world, moment, world["steps"][step] / 2, at_event=("step_started", step)
        )
    else:
        data_dir, killed = interrupted(world, moment, None, failpoint)
    assert killed
    assert_recovers(world, data_dir)
    statuses = run_statuses(data_dir)
    assert statuses[0] == statuses[-1] == "success" and len(statuses) == 3
