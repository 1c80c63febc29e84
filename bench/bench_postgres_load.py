"""PostgreSQL end-to-end load rate: raw files into the production tables of a server.

    .venv/bin/python bench/bench_postgres_load.py                 # scale factor 10, 3 runs
    .venv/bin/python bench/bench_postgres_load.py --scale 1 --repeat 5

What "end-to-end load" means here, exactly:
  - rows: the records of the raw input (the four CSV files as generated), i.e. the rows
    staged plus the records quarantined at ingest;
  - seconds: the wall seconds of the `ingest` step (raw files → `staging.*`, read by
    DuckDB, bulk-loaded with COPY) plus the `production` step (validated rows merged into
    `production.*`, then the keys, foreign keys and indexes checked and created) of one
    `cartwheel run` into a fresh, empty database (a first load);
  - rate = rows / seconds. The `quality` step between them (the validation models, SQL
    on the server) is timed and shown too, with the rate that includes it.
  - CPU seconds per step: of the client (this process, all its threads) and of the
    server (the postmaster and every process it started, alive or already exited).

`--profile`: every statement the engine sends (its `_cursor_execute`, and each binary
COPY) is timed, wall and server CPU seconds, and the costliest statement shapes of each
step are printed after the run (the reading of /proc per statement adds client time, so
profile runs do not count for the rate).

Each run is `Pipeline.run(steps=[ingest, quality, production])` in this process with a
fresh database and data folder, on a throwaway server started from PATH with durable
settings (fsync on), as a production server has (its processes' CPU time is read from
/proc, so the server runs on this machine). On a shared machine compare the CPU
seconds; the load average is printed with each run.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import duckdb
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cartwheel.config import Settings  # noqa: E402
from cartwheel.contract import ENTITIES  # noqa: E402
from cartwheel.engines.postgres import PostgresEngine  # noqa: E402
from cartwheel.generate import generate  # noqa: E402
from cartwheel.orchestration.pipeline import Pipeline  # noqa: E402
from cartwheel.orchestration.step_runner import StepRunner  # noqa: E402
from tests.pg_server import PostgresServer, new_database  # noqa: E402

STEPS = ["ingest", "quality", "production"]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def raw_records(raw: Path) -> int:
    """Records in the four raw CSV files (a quoted line break stays in its record)."""
    return sum(
        duckdb.sql(
            f"select count(*) from read_csv('{raw / f'{e}.csv'}', all_varchar=true)"
        ).fetchall()[0][0]
        for e in ENTITIES
    )


def server_cpu(postmaster: int) -> float:
    """CPU seconds of a PostgreSQL server: the postmaster, its live children and the
    children it has reaped (cutime/cstime)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile (its time is reaped by the postmaster)
            continue
        pid, parent = int(entry.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        elif parent == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def client_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


class StatementProfile:
    """Wall and server CPU seconds per (step, statement shape) while installed."""

    def __init__(self, postmaster: int) -> None:
        self.postmaster = postmaster
        self.step = "-"
        self.costs: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)

    def record(self, sql: str, wall: float, server: float) -> None:
        shape = " ".join(sql.split())[:110]
        self.costs[(self.step, shape)].append((wall, server))

    @contextmanager
    def installed(self) -> object:
        """Time `PostgresEngine._cursor_execute` and `copy_binary` (the statements run
        on the client-side cursor complete inside `execute`)."""
        execute, copy = PostgresEngine._cursor_execute, PostgresEngine.copy_binary

        def timed(method, label):  # noqa: ANN001, ANN202
            def wrapper(engine, sql, *args):  # noqa: ANN001, ANN002, ANN202
                wall, server = time.perf_counter(), server_cpu(self.postmaster)
                try:
                    return method(engine, sql, *args)
                finally:
                    self.record(
                        label + str(sql),
                        time.perf_counter() - wall,
                        server_cpu(self.postmaster) - server,
                    )

            return wrapper

        PostgresEngine._cursor_execute = timed(execute, "")
        PostgresEngine.copy_binary = timed(copy, "copy binary into ")
        try:
            yield self
        finally:
            PostgresEngine._cursor_execute, PostgresEngine.copy_binary = execute, copy

    def print(self, top: int = 12) -> None:
        for step in STEPS:
            rows = [(shape, times) for (name, shape), times in self.costs.items() if name == step]
            wall = sum(w for _, times in rows for w, _ in times)
            server = sum(s for _, times in rows for _, s in times)
            count = sum(len(times) for _, times in rows)
            print(f"{step}: {count} statements, {wall:.3f} s wall, {server:.3f} s server CPU")
            rows.sort(key=lambda row: -sum(w for w, _ in row[1]))
            for shape, times in rows[:top]:
                print(
                    f"  {sum(w for w, _ in times):7.3f} s {sum(s for _, s in times):7.3f} CPU "
                    f"{len(times):4d}x  {shape}"
                )


def one_run(
    url: str, password: str, raw: Path, postmaster: int, profile: StatementProfile | None = None
) -> dict[str, tuple]:
    """Per step: (wall s, client CPU s, server CPU s) of one first load."""
    measured: dict[str, tuple] = {}
    original = StepRunner.run_step

    def timed(runner: StepRunner, step):  # noqa: ANN001, ANN202 - StepRunner's own types
        if profile is not None:
            profile.step = step.name
        wall, client, server = time.perf_counter(), client_cpu(), server_cpu(postmaster)
        try:
            return original(runner, step)
        finally:
            measured[step.name] = (
                time.perf_counter() - wall,
                client_cpu() - client,
                server_cpu(postmaster) - server,
            )

    data_dir = Path(tempfile.mkdtemp(prefix="cartwheel-bench-pgload-"))
    database = new_database_url(url, password)
    settings = Settings(
        engine="postgres",
        database_url=SecretStr(database),
        data_dir=data_dir,
        input_dir=raw,
    )
    StepRunner.run_step = timed
    try:
        Pipeline(settings, trigger="bench").run(steps=STEPS)
    finally:
        StepRunner.run_step = original
        shutil.rmtree(data_dir, ignore_errors=True)
    return measured


def new_database_url(url: str, password: str) -> str:
    server = PostgresServer(password=password)
    server.port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    return new_database(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--profile", action="store_true", help="time every statement, print the costliest"
    )
    args = parser.parse_args()

    server = PostgresServer(durable=True).start()
    postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
    work = Path(tempfile.mkdtemp(prefix="cartwheel-bench-raw-"))
    try:
        raw = work / "raw"
        generate(raw, scale=args.scale, seed=42)
        rows = raw_records(raw)
        print(f"scale factor {args.scale:g}: {rows:,} raw records ({raw})")
        print(
            f"{'run':>3} {'load':>5} | {'step':<10} {'wall s':>7} {'client CPU':>10} "
            f"{'server CPU':>10}"
        )
        rates, rates_with_quality = [], []
        for number in range(1, args.repeat + 1):
            load = os.getloadavg()[0]
            if args.profile:
                profile = StatementProfile(postmaster)
                with profile.installed():
                    steps = one_run(server.url, server.password, raw, postmaster, profile)
                profile.print()
            else:
                steps = one_run(server.url, server.password, raw, postmaster)
            for name in STEPS:
                wall, client, cpu = steps[name]
                print(
                    f"{number:>3} {load:>5.2f} | {name:<10} {wall:>7.3f} {client:>10.3f} "
                    f"{cpu:>10.3f}"
                )
            load_seconds = steps["ingest"][0] + steps["production"][0]
            rates.append(rows / load_seconds)
            rates_with_quality.append(rows / (load_seconds + steps["quality"][0]))
            print(
                f"    end-to-end load (ingest + production) {load_seconds:.3f} s = "
                f"{rates[-1]:,.0f} rows/s; with quality {rates_with_quality[-1]:,.0f} rows/s"
            )
        print(
            f"median of {args.repeat}: {statistics.median(rates):,.0f} rows/s "
            f"(ingest + production), {statistics.median(rates_with_quality):,.0f} rows/s "
            "(ingest + quality + production)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
        server.stop()


if __name__ == "__main__":
    main()
