"""Parity on Spark: the same input (two runs of batches with defects) through DuckDB and through
Spark gives the same analytics files byte for byte, the same production and warehouse
tables (row counts, sums, distinct values, date ranges) and the same quarantine counts
by reason. January's run is made once on Spark in local mode (one shared `local[2]`
session); from that state the incremental run of February 1st is made twice: in local mode
(killed mid-publish, finished by the next run) and through Spark Connect (the server
from the PySpark package, started here on 127.0.0.1)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from cartwheel.config import Settings
from cartwheel.generate.core import generate_batches
from cartwheel.orchestration.publish import FAILPOINT_ENV, MARKER, WORK_DIR
from tests.conftest import run_cli
from tests.test_postgres_parity import (
    COMPARED_SCHEMAS,
    VOLATILE_COLUMNS,
    analytics_files,
    assert_same_fingerprints,
    fingerprint,
)

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,  # 10-18 minutes per test on the loaded 2-core machine (docs/spark.md)
    pytest.mark.skipif(
        importlib.util.find_spec("pyspark") is None or shutil.which("java") is None,
        reason="needs the spark extra and Java",
    ),
]

Runner = Callable[[str], list[tuple]]
QUARANTINE_REASONS = (
    "select entity, stage, reason, count(*) from ops.quarantine "
    "group by entity, stage, reason order by entity, stage, reason"
)


#: Spark tuned for a few thousand rows, where every statement's fixed cost is the cost:
#: one shuffle partition, no whole-stage code generation (compiling Java per query costs
#: more than the rows), no adaptive execution (it runs a version's shuffles as soon as the
#: version is defined, instead of once when it is first read), and the JVM's quick
#: compiler only with one GC thread (a short run never repays the optimising compiler's
#: CPU on two shared cores).
SMALL_DATA_CONF = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.adaptive.enabled": "false",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
}
SMALL_DATA_ENV = {
    "CARTWHEEL_SPARK__SHUFFLE_PARTITIONS": "1",
    "CARTWHEEL_SPARK__CONF": json.dumps(SMALL_DATA_CONF),
}


@pytest.fixture(scope="module", autouse=True)
def small_data_spark() -> Iterator[None]:
    """Every run of this module (in-process, child processes) uses the small-data tuning."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in SMALL_DATA_ENV.items():
            patch.setenv(name, value)
        yield


@pytest.fixture(scope="module")
def local_spark(small_data_spark: None):
    """One local[2] session for every Spark run of the module (starting one costs seconds)."""
    from cartwheel.engines.spark import session

    return session(Settings(engine="spark", spark={"master": "local[2]"}))


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two batches with defects across a month's end: January's days as one batch
    (2024-01-31), then the daily batch of 2024-02-01 (a customer's change for SCD2,
    orders of February only)."""
    days = tmp_path_factory.mktemp("spark_days")
    generate_batches(days, days=32, scale=1, seed=5, defect_rate=0.005)
    folders = sorted(path for path in days.iterdir() if path.is_dir())
    raw = tmp_path_factory.mktemp("spark_batches")
    january = raw / "2024-01-31"
    january.mkdir()
    for file in folders[0].glob("*.csv"):
        with (january / file.name).open("w") as merged:
            for index, folder in enumerate(folders[:31]):
                lines = (folder / file.name).read_text().splitlines(keepends=True)
                merged.writelines(lines if index == 0 else lines[1:])
    return january, folders[31]


def run_arguments(data_dir: Path, *engine: str) -> tuple[str, ...]:
    """`cartwheel run` on the data folder's own input folder (beside it)."""
    return ("run", "--input", str(input_dir(data_dir)), "--data-dir", str(data_dir), *engine)


def input_dir(data_dir: Path) -> Path:
    return data_dir.parent / f"{data_dir.name}_input"


def first_run(january: Path, data_dir: Path, *engine: str) -> None:
    """January's batch in a first run."""
    input_dir(data_dir).mkdir()
    shutil.copytree(january, input_dir(data_dir) / january.name)
    run_cli(*run_arguments(data_dir, *engine))


def add_batch(batch: Path, data_dir: Path) -> None:
    """A new batch folder in the input folder (the next run's incremental day)."""
    shutil.copytree(batch, input_dir(data_dir) / batch.name)


def fact_partitions(data_dir: Path) -> dict[str, str]:
    """month -> the folder of fact_sales' published version of it (Spark's metadata)."""
    path = data_dir / "cartwheel_spark.duckdb"
    if not path.exists():
        return {}
    con = duckdb.connect(str(path), read_only=True)
    try:
        (parts,) = con.execute(
            "select partitions from ops.spark_tables where table_name = 'warehouse.fact_sales'"
        ).fetchone()
    finally:
        con.close()
    return json.loads(parts)


@pytest.fixture(scope="module")
def duck_dir(batches: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DuckDB's data folder after both runs: January, then February's incremental day."""
    january, february = batches
    data_dir = tmp_path_factory.mktemp("spark_parity") / "duckdb"
    first_run(january, data_dir)
    add_batch(february, data_dir)
    run_cli(*run_arguments(data_dir))
    return data_dir


@pytest.fixture(scope="module")
def january_on_spark(
    local_spark, batches: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """January's run on Spark in local mode, once for both tests: (its data folder, a
    pristine copy of it and its input folder)."""
    data_dir = tmp_path_factory.mktemp("spark_january") / "spark"
    first_run(batches[0], data_dir, *LOCAL_MODE)
    pristine = data_dir.parent / "pristine"
    for folder in (data_dir, input_dir(data_dir)):
        shutil.copytree(folder, pristine / folder.name)
    return data_dir, pristine


@pytest.fixture()
def spark_after_january(january_on_spark: tuple[Path, Path]) -> Path:
    """The Spark data folder as January's run left it, restored in place (its metadata
    names the table folders by absolute path)."""
    data_dir, pristine = january_on_spark
    for folder in (data_dir, input_dir(data_dir)):
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(pristine / folder.name, folder)
    return data_dir


def spark_fingerprint(run: Runner, spark, schema: str) -> dict[str, dict[str, object]]:
    """As `fingerprint` on DuckDB, from the Spark catalog's tables and types."""
    result: dict[str, dict[str, object]] = {}
    tables = [t.name for t in spark.catalog.listTables(schema) if not t.isTemporary]
    for table in sorted(tables):
        parts, names = ["count(*)"], ["rows"]
        for field in spark.table(f"{schema}.{table}").schema.fields:
            kind = field.dataType.simpleString()
            if field.name in VOLATILE_COLUMNS or kind.startswith("timestamp"):
                continue
            if kind.startswith(("int", "bigint", "smallint", "decimal", "double", "float")):
                parts.append(f"sum({field.name})")
            elif kind == "boolean":
                parts.append(f"sum(case when {field.name} then 1 else 0 end)")
            elif kind == "date":
                parts.append(
                    f"cast(min({field.name}) as string) || '/' || cast(max({field.name}) as string)"
                )
            else:
                parts.append(f"count(distinct {field.name})")
            names.append(field.name)
        values = run(f"select {', '.join(parts)} from {schema}.{table}")[0]
        result[table] = dict(zip(names, values, strict=True))
    return result


def assert_parity(duck_dir: Path, spark_dir: Path, spark) -> None:
    duck_files, spark_files = analytics_files(duck_dir), analytics_files(spark_dir)
    assert len(duck_files) == 10
    assert sorted(duck_files) == sorted(spark_files)
    different = [name for name in duck_files if duck_files[name] != spark_files[name]]
    assert not different, f"analytics differ: {different}"

    con = duckdb.connect(str(duck_dir / "cartwheel.duckdb"), read_only=True)
    try:

        def duck(sql: str) -> list[tuple]:
            return con.execute(sql).fetchall()

        def on_spark(sql: str) -> list[tuple]:
            return [tuple(row) for row in spark.sql(sql).collect()]

        for schema in COMPARED_SCHEMAS:
            assert_same_fingerprints(
                fingerprint(duck, schema), spark_fingerprint(on_spark, spark, schema)
            )
        assert duck(QUARANTINE_REASONS) == on_spark(QUARANTINE_REASONS)
        # Not vacuous: defects were quarantined, customers and products changed.
        assert duck("select count(*) from ops.quarantine")[0][0] > 0
        assert on_spark("select count(*) from warehouse.dim_customers where not is_current")[0][0]
    finally:
        con.close()


LOCAL_MODE = ("--engine", "spark", "--spark-master", "local[2]")


def killed_mid_publish(*arguments: str) -> None:
    """The run in a process of its own, killed (SIGKILL) once its tables are written and
    its publish has begun (the marker is down, the metadata store not yet switched)."""
    process = subprocess.run(
        [sys.executable, "-m", "cartwheel.cli", *arguments],
        env={**os.environ, FAILPOINT_ENV: "after_marker"},
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert process.returncode == -signal.SIGKILL, process.stderr[-2000:]


def test_local_mode_is_identical_to_duckdb_after_a_kill_mid_publish(
    local_spark,
    batches: tuple[Path, Path],
    duck_dir: Path,
    spark_after_january: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Local mode: after January's run, the incremental run (February's day) is killed
    mid-publish and its publish is finished by the next run. That run is `cartwheel
    ingest` with nothing left to load: the tables and analytics compared are the killed
    run's own, published by the recovery (none of it computed again)."""
    spark_dir = spark_after_january
    first = fact_partitions(spark_dir)
    add_batch(batches[1], spark_dir)
    killed_mid_publish(*run_arguments(spark_dir, *LOCAL_MODE))
    assert (spark_dir / WORK_DIR / MARKER).exists()
    assert fact_partitions(spark_dir) == first  # readers still see the first run
    analytics_before = analytics_files(spark_dir)
    monkeypatch.setenv("CARTWHEEL_ENGINE", "spark")
    monkeypatch.setenv("CARTWHEEL_SPARK__MASTER", "local[2]")
    run_cli("ingest", "--input", str(input_dir(spark_dir)), "--data-dir", str(spark_dir))
    latest = sorted((spark_dir / "logs").glob("run-*.jsonl"))[-1]
    events = [json.loads(line) for line in latest.read_text().splitlines()]
    assert [e["message"] for e in events if e.get("event") == "recovered"] == [
        "finished publishing the outputs of an interrupted run"
    ]
    assert not [e for e in events if e.get("event") == "step_started"]  # nothing was pending
    assert analytics_files(spark_dir) != analytics_before  # February's, from the killed run
    assert_parity(duck_dir, spark_dir, local_spark)
    # The incremental day rewrote February only: January's folder is the first run's.
    assert sorted(first) == ["202401"]
    after = fact_partitions(spark_dir)
    assert sorted(after) == ["202401", "202402"]
    assert after["202401"] == first["202401"]
    assert Path(after["202402"]).parent != Path(first["202401"]).parent
    assert list(Path(after["202401"]).glob("*.parquet"))
    assert list(Path(after["202402"]).glob("*.parquet"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Spark Connect server of the PySpark package, on 127.0.0.1; stopped afterwards."""
    import pyspark

    home = Path(pyspark.__file__).parent
    folder = tmp_path_factory.mktemp("connect")
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOG_DIR": str(folder),
           "SPARK_PID_DIR": str(folder)}  # fmt: skip
    port = free_port()
    subprocess.run(
        [str(home / "sbin" / "start-connect-server.sh"), "--master", "local[2]",
         "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
         "--conf", f"spark.connect.grpc.binding.port={port}",
         "--conf", "spark.sql.catalogImplementation=in-memory",
         "--conf", "spark.ui.enabled=false", "--driver-memory", "2g",
         "--driver-java-options", SMALL_DATA_CONF["spark.driver.extraJavaOptions"]],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(1)
        else:
            pytest.fail(f"Spark Connect did not listen on 127.0.0.1:{port} within 180 s")
        yield f"sc://127.0.0.1:{port}"
    finally:
        subprocess.run(
            [str(home / "sbin" / "stop-connect-server.sh")], env=env, capture_output=True
        )


# The Connect half runs in a process of its own: a Connect client switches PySpark into
# Connect mode for its whole process (SPARK_CONNECT_MODE_ENABLED), and a local session
# already running there refuses it (SESSION_ALREADY_EXIST).
CONNECT_CHECK = """
import sys
from pathlib import Path
from pyspark.sql import SparkSession
from tests.conftest import run_cli
from tests.test_spark_parity import add_batch, assert_parity, run_arguments

url, february, duck_dir, spark_dir = sys.argv[1:]
add_batch(Path(february), Path(spark_dir))
run_cli(*run_arguments(Path(spark_dir), "--engine", "spark", "--spark-remote", url))
# The run registered its tables in the server's catalog: a second client sees them.
assert_parity(Path(duck_dir), Path(spark_dir), SparkSession.builder.remote(url).getOrCreate())
"""


def test_spark_connect_is_identical_to_duckdb(
    connect_server: str, batches: tuple[Path, Path], duck_dir: Path, spark_after_january: Path
) -> None:
    """Through Spark Connect: the incremental run (February's day: ingest to dashboard,
    over the tables January's run wrote) on the server."""
    spark_dir = spark_after_january
    before = len(list((spark_dir / "logs").glob("run-*.jsonl")))
    check = subprocess.run(
        [sys.executable, "-c", CONNECT_CHECK, connect_server, str(batches[1]),
         str(duck_dir), str(spark_dir)],
        cwd=Path(__file__).parent.parent, capture_output=True, text=True, timeout=2400,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]
    assert len(list((spark_dir / "logs").glob("run-*.jsonl"))) == before + 1
    assert len(analytics_files(spark_dir)) == 10
