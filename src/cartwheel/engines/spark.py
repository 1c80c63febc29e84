"""Apache Spark: the same pipeline over Parquet tables, in local mode or on a cluster.

- Session: `local[*]` by default, `spark.master` (spark://…, yarn) or a Spark Connect URL
  (`spark.remote`, sc://host:15002). One session per process, reused by every engine.
- Tables: Parquet folders under the warehouse path, registered in the session's catalog
  under the same schema names (`production.customers`). Plain Parquet has no UPDATE,
  DELETE or MERGE: every statement that changes a table defines the table's next
  version (`spark_sql.next_version_*`); `seal()` writes each changed table once into a
  new folder, and publishing switches the table to it (`ALTER TABLE … SET LOCATION`);
  `warehouse.fact_sales` is partitioned by month (`sale_month`) and a run rewrites only
  the months it touches.
- Metadata store: a small DuckDB file in the data folder (`cartwheel_spark.duckdb`)
  holds which folder is each table's current version, and the run history. A run works
  on a private copy of that file and publishes by renaming it (as the DuckDB engine
  does), so readers switch to all of a run's tables at once; a run killed mid-publish is
  finished by the next one, and folders no published version names are deleted then.
- Temporary tables, and each table's versions during a run, are temporary views over
  local checkpoints (computed once on first use); only `seal()` writes Parquet.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from cartwheel.engines.base import SCHEMAS, Capabilities, Engine
from cartwheel.engines.duckdb import DuckDBEngine, finish_publish
from cartwheel.engines.spark_sql import (
    SparkTranslationError,
    TableShape,
    bind,
    next_version_delete,
    next_version_insert,
    next_version_merge,
    next_version_update,
    parse,
    resolve_tables,
    spark_type,
    table_name,
    to_spark,
)
from cartwheel.sqltext import check_identifier, string_literal

if TYPE_CHECKING:
    from cartwheel.config import Settings

INSTALL_HINT = "engine 'spark' needs PySpark: pip install 'cartwheel[spark]'"

#: Tables partitioned by a column derived from their own columns.
PARTITIONS = {"warehouse.fact_sales": ("sale_month", "cast(date_key div 100 as int)")}

#: The temporary views the engine registers (one per table version or temporary table).
VIEW_NAME = re.compile(r"\bcw_[0-9a-f]{32}\b")

#: Run history stays in the metadata store (DuckDB SQL, never sent to Spark).
METADATA_TABLES = {"ops.pipeline_runs", "ops.step_runs"}

METADATA_DDL = """
create schema if not exists ops;
create table if not exists ops.spark_tables (
    table_name varchar primary key,
    columns varchar not null,
    location varchar not null,
    partition_column varchar,
    partitions varchar
)
"""


def metadata_path(settings: Settings) -> Path:
    return settings.data_dir / "cartwheel_spark.duckdb"


def warehouse_path(settings: Settings) -> str:
    """Where table versions live: the configured URI or a folder in the data folder."""
    configured = settings.spark.warehouse
    return configured or str((settings.data_dir / "spark-warehouse").resolve())


def session(settings: Settings) -> Any:
    """The process's Spark session for these settings (created on first use)."""
    # PySpark warns about the pandas version when its modules load; cartwheel hands Spark
    # Arrow tables, never pandas frames.
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    spark = settings.spark
    builder = SparkSession.builder.appName("cartwheel")
    if spark.remote:
        builder = builder.remote(spark.remote)
    else:
        builder = (
            builder.master(spark.master)
            .config("spark.driver.memory", spark.driver_memory)
            .config("spark.sql.catalogImplementation", "in-memory")
            .config("spark.ui.enabled", "false")
            # cartwheel shows its own progress; Spark's stage bars would break its lines.
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.warehouse.dir", warehouse_path(settings) + "/_catalog")
        )
        if spark.master.startswith("local"):
            # Local mode serves nothing to other machines: the driver listens on loopback
            # (and Spark no longer warns that it guessed an address).
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    options = {
        "spark.sql.shuffle.partitions": str(spark.shuffle_partitions),
        "spark.sql.session.timeZone": _local_time_zone(),
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        **spark.conf,
    }
    if not spark.remote:
        for key, value in options.items():
            builder = builder.config(key, value)
    active = builder.getOrCreate()
    for key, value in options.items():
        if not key.startswith("spark.driver.") and active.conf.get(key, None) != value:
            active.conf.set(key, value)
    if not spark.remote:
        _quiet_intended_warnings(active)
    return active


#: Loggers whose warnings are about what the engine does on purpose (only these lowered):
#: surrogate keys number a table's new rows in one global order (max + row_number() over
#: the whole table, the same on every engine), and Spark warns at each such window that
#: it moves the rows to one partition; a version's rows are freed once nothing reads
#: them, and Spark warns that a local checkpoint cannot be recomputed after that.
INTENDED_WARNINGS = (
    "org.apache.spark.sql.execution.window.WindowExec",
    "org.apache.spark.rdd.MapPartitionsRDD",
)


def _quiet_intended_warnings(active: Any) -> None:
    jvm = active._jvm
    for logger in INTENDED_WARNINGS:
        jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(
            logger, jvm.org.apache.logging.log4j.Level.ERROR
        )


def _local_time_zone() -> str:
    """The zone DuckDB uses here, so `current_date` is the same day on both engines."""
    import duckdb

    return duckdb.sql("select current_setting('TimeZone')").fetchall()[0][0]


#: Per Spark session: what its catalog holds, {table: (columns, location, partitions)}.
_CATALOG_STATE: dict[int, dict[str, tuple[str, str, str]]] = {}
#: Per Spark session: the schemas known to exist in its catalog.
_CATALOG_SCHEMAS: dict[int, set[str]] = {}


@dataclass
class Version:
    """One table as this run sees it: its published folder(s) and, once read or changed,
    the temporary view of its current rows."""

    columns: list[tuple[str, str]]
    partition_column: str | None = None
    location: str | None = None
    parts: dict[str, str] = field(default_factory=dict)
    view: str | None = None
    changed: bool = False
    #: Partitions changed since the published version (None: all of them).
    touched: set[int] | None = None

    def shape(self, name: str) -> TableShape:
        expression = PARTITIONS[name][1] if self.partition_column else None
        return TableShape(name, tuple(self.columns), self.partition_column, expression)


@dataclass
class Checkpoint:
    """A version's rows, computed on first use and kept until released."""

    frame: Any
    #: The views its rows are computed from (they must stay until it is computed).
    reads: set[str]
    _computed: bool = False

    def computed(self) -> bool:
        self._computed = self._computed or is_computed(self.frame)
        return self._computed

    def release(self) -> None:
        self.frame.unpersist()
        if hasattr(self.frame, "_jdf"):  # a classic session: the checkpoint's own blocks
            _checkpointed_rdd(self.frame).unpersist(False)


def is_computed(frame: Any) -> bool:
    """Whether a local checkpoint holds its rows (its inputs are no longer needed)."""
    return bool(_checkpointed_rdd(frame).isCheckpointed())


def _checkpointed_rdd(frame: Any) -> Any:
    """The JVM RDD behind a local checkpoint (a classic session's LogicalRDD)."""
    return frame._jdf.queryExecution().analyzed().rdd()


class SparkEngine(Engine):
    """Statements see each table through an immutable temporary view of its current
    version; a change defines the next view (lazily, cached on first use), and `seal()`
    writes each changed table once, as a new folder."""

    name = "spark"
    capabilities = Capabilities(
        # Switches of table versions inside `transaction()` take effect together.
        transactions=True,
        constraints=False,
        indexes=False,
        replace_table=False,
        private_run_copy=True,
    )

    def __init__(self, settings: Settings, meta: DuckDBEngine, writable: bool = True) -> None:
        self.settings = settings
        self.meta = meta
        if writable:
            self.meta.execute(METADATA_DDL)
        self.spark = session(settings)
        self.root = warehouse_path(settings)
        self._tables = self._published()
        self._dropped: set[str] = set()
        self._temps: dict[str, str] = {}  # temporary table name -> its view
        self._checkpoints: dict[str, Checkpoint] = {}  # view -> its cached rows
        self._plain_views: dict[str, set[str]] = {}  # uncached view -> the views it reads
        self._pinned: set[str] = set()  # views a transaction may restore
        self._sync_catalog(self._tables)

    # Opening ----------------------------------------------------------------------------

    @classmethod
    def open(cls, settings: Settings) -> SparkEngine:
        return cls(settings, DuckDBEngine(str(metadata_path(settings))))

    @classmethod
    def open_for_run(cls, settings: Settings) -> SparkEngine:
        """A run's engine: a private copy of the metadata store, published by rename."""
        engine = cls(settings, DuckDBEngine.private_copy(metadata_path(settings)))
        engine._delete_unpublished_versions()
        return engine

    @classmethod
    def open_reader(cls, settings: Settings) -> SparkEngine:
        path = metadata_path(settings)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no warehouse yet (run cartwheel run)")
        return cls(settings, DuckDBEngine(str(path), read_only=True), writable=False)

    @classmethod
    def recover_publish(cls, settings: Settings) -> None:
        """Finish the rename of a sealed metadata store (a run killed mid-publish)."""
        finish_publish(metadata_path(settings))

    @classmethod
    def location(cls, settings: Settings) -> str:
        return warehouse_path(settings)

    @classmethod
    def lineage_dataset(cls, settings: Settings, table: str) -> tuple[str, str]:
        root = warehouse_path(settings)
        return (root if "://" in root else f"file://{root}"), table

    @classmethod
    def is_transient_error(cls, error: BaseException) -> bool:
        """A lost connection to the driver or the Connect server."""
        try:
            from pyspark.errors import PySparkConnectionError
        except ImportError:
            return False
        name = type(error).__name__
        return isinstance(error, PySparkConnectionError | ConnectionError) or name in (
            "SparkConnectGrpcException",
            "Py4JNetworkError",
        )

    @property
    def database_name(self) -> str:
        return self.root

    # Versions ---------------------------------------------------------------------------

    def _published(self) -> dict[str, Version]:
        if not self.meta.table_exists("ops.spark_tables"):
            return {}
        rows = self.meta.query(
            "select table_name, columns, location, partition_column, partitions "
            "from ops.spark_tables"
        )
        return {
            name: Version(
                [tuple(c) for c in json.loads(columns)],
                partition_column,
                location,
                json.loads(partitions or "{}"),
                touched=set(),
            )
            for name, columns, location, partition_column, partitions in rows
        }

    def _version(self, name: str) -> Version:
        version = self._tables.get(name)
        if version is None:
            raise SparkTranslationError(f"table {name} does not exist")
        return version

    def _view(self, name: str) -> str:
        """The temporary view of a table's current rows (registered on first use)."""
        version = self._version(name)
        if version.view is None:
            stored = [c for c in version.columns if c[0] != version.partition_column]
            ddl = ", ".join(f"{c} {t}" for c, t in stored)
            if version.partition_column is None:
                frame = self.spark.read.schema(ddl).parquet(version.location)
            else:
                frame = self._partitions_frame(version, ddl)
            version.view = self._register(frame, cache=False)
        return version.view

    def _partitions_frame(self, version: Version, ddl: str) -> Any:
        column = version.partition_column
        kind = dict(version.columns)[column]
        reads = [
            self.spark.read.schema(ddl)
            .parquet(location)
            .selectExpr("*", f"cast({int(value)} as {kind}) as {column}")
            for value, location in sorted(version.parts.items())
        ]
        if not reads:
            definition = ", ".join(f"{c} {t}" for c, t in version.columns)
            return self.spark.createDataFrame([], definition)
        frame = reads[0]
        for read in reads[1:]:
            frame = frame.unionAll(read)
        return frame

    def _register(self, frame: Any, cache: bool, sql: str = "") -> str:
        """A temporary view of `frame` (built by `sql`, which names the views it reads)."""
        view = f"cw_{uuid.uuid4().hex}"
        reads = set()
        for name in VIEW_NAME.findall(sql):
            reads |= self._plain_views.get(name, {name})
        if cache:
            # A leaf plan, computed on first use and kept: views of views never grow
            # into deep plans (a DELETE reads its table twice; plans would double).
            frame = frame.localCheckpoint(eager=False)
            self._checkpoints[view] = Checkpoint(frame, reads)
        else:
            self._plain_views[view] = reads
        frame.createOrReplaceTempView(view)
        return view

    def _release_superseded(self) -> None:
        """Free the rows of versions nothing can read any more: no table's current
        version, no temporary table, and every version computed from them computed itself
        (a lazy checkpoint needs its inputs until it is). Local mode only: the computed
        state of a checkpoint is the driver's; through Connect `seal()` frees them."""
        if self.settings.spark.remote:
            return
        live = {v.view for v in self._tables.values()} | set(self._temps.values()) | self._pinned
        for view in list(live):
            live |= self._plain_views.get(view, set())
        for view in reversed(list(self._checkpoints)):  # newest first: chains free at once
            if view in live:
                continue
            readers = [c for c in self._checkpoints.values() if view in c.reads]
            if all(reader.computed() for reader in readers):
                self._checkpoints.pop(view).release()

    def _change(self, name: str, select_sql: str, touched_sql: str | None) -> None:
        """Make `select_sql` the table's next version (a cached view, no job yet)."""
        frame = self.spark.sql(select_sql)
        partition = PARTITIONS.get(name)
        if partition is not None and partition[0] not in frame.columns:
            frame = frame.selectExpr("*", f"{partition[1]} as {partition[0]}")
        columns = [(f.name, f.dataType.simpleString()) for f in frame.schema.fields]
        version = self._tables.get(name)
        touched = None  # every partition
        if version is not None and version.columns == columns and touched_sql is not None:
            touched = version.touched
            if partition is not None and touched is not None:
                rows = self.spark.sql(f"select distinct {partition[0]} from ({touched_sql})")
                touched = touched | {int(row[0]) for row in rows.collect() if row[0] is not None}
        new = Version(
            columns,
            partition[0] if partition else None,
            version.location if version else None,
            version.parts if version else {},
            view=self._register(frame, cache=True, sql=select_sql),
            changed=True,
            touched=touched,
        )
        self._tables[name] = new
        self._dropped.discard(name)

    def _write_changes(self) -> None:
        """Write each changed table's version into a new folder; record it (privately)."""
        for name in self._dropped:
            self.meta.execute("delete from ops.spark_tables where table_name = ?", [name])
        for name, version in self._tables.items():
            if not version.changed:
                continue
            frame = self.spark.table(version.view)
            folder = self._new_folder(name)
            parts: dict[str, str] = {}
            location = folder
            if version.partition_column is not None:
                column = version.partition_column
                location = f"{self.root}/{name.replace('.', '/')}/_root"
                if version.touched is not None:
                    parts = {
                        value: path
                        for value, path in version.parts.items()
                        if int(value) not in version.touched
                    }
                    listed = ", ".join(map(str, sorted(version.touched))) or "null"
                    frame = frame.where(f"{column} in ({listed})")
                frame.write.partitionBy(column).parquet(folder)
                written = self.spark.read.parquet(folder).select(column).distinct().collect()
                parts.update({str(int(r[0])): f"{folder}/{column}={int(r[0])}" for r in written})
            else:
                frame.write.parquet(folder)
            self.meta.execute("delete from ops.spark_tables where table_name = ?", [name])
            self.meta.execute(
                "insert into ops.spark_tables values (?, ?, ?, ?, ?)",
                [
                    name,
                    json.dumps(version.columns),
                    location,
                    version.partition_column,
                    json.dumps(parts) if version.partition_column else None,
                ],
            )

    def _new_folder(self, name: str) -> str:
        schema, table = name.split(".")
        return f"{self.root}/{schema}/{table}/v{uuid.uuid4().hex}"

    def _sync_catalog(self, tables: dict[str, Version]) -> None:
        """Register the published versions in the session's catalog under their names
        (CREATE TABLE … LOCATION, then ALTER TABLE … SET LOCATION as versions change)."""
        state = _CATALOG_STATE.setdefault(id(self.spark), {})
        for name in [n for n in state if n not in tables]:
            self._sql(f"drop table if exists {name}")
            del state[name]
        for name, version in tables.items():
            if version.location is None:
                continue
            columns = json.dumps(version.columns)
            partitions = json.dumps(version.parts, sort_keys=True)
            wanted = (columns, version.location, partitions)
            previous = state.get(name)
            if previous == wanted:
                continue
            self._ensure_schema(name.split(".")[0])
            if previous is None or previous[0] != columns:
                definition = ", ".join(f"{c} {t}" for c, t in version.columns)
                column = version.partition_column
                partitioned = f" partitioned by ({column})" if column else ""
                if column and self._local_root() is not None:
                    # The partitions have folders of their own; the table's root folder
                    # exists so that resolving the table finds a folder, not an error.
                    Path(version.location.removeprefix("file://")).mkdir(
                        parents=True, exist_ok=True
                    )
                self._sql(f"drop table if exists {name}")
                self._sql(
                    f"create table {name} ({definition}) using parquet{partitioned} "
                    f"location {string_literal(version.location)}"
                )
                previous = (columns, version.location, "{}")
            elif previous[1] != version.location:
                self._sql(f"alter table {name} set location {string_literal(version.location)}")
            if version.partition_column:
                self._sync_partitions(name, version.partition_column, previous[2], partitions)
            state[name] = wanted

    def _ensure_schema(self, schema: str) -> None:
        """Create a schema in the catalog once per session (only if it is missing)."""
        known = _CATALOG_SCHEMAS.setdefault(id(self.spark), set())
        if schema not in known:
            if not self.spark.catalog.databaseExists(schema):
                self._sql(f"create schema if not exists {schema}")
            known.add(schema)

    def _local_root(self) -> Path | None:
        """The warehouse as a local folder (None on an object store)."""
        if "://" in self.root and not self.root.startswith("file://"):
            return None
        return Path(self.root.removeprefix("file://"))

    def _sync_partitions(self, name: str, column: str, old: str, new: str) -> None:
        before, after = json.loads(old), json.loads(new)
        for value in [v for v in before if v not in after]:
            self._sql(f"alter table {name} drop if exists partition ({column} = {int(value)})")
        for value, location in after.items():
            if value not in before:
                self._sql(
                    f"alter table {name} add partition ({column} = {int(value)}) "
                    f"location {string_literal(location)}"
                )
            elif before[value] != location:
                self._sql(
                    f"alter table {name} partition ({column} = {int(value)}) "
                    f"set location {string_literal(location)}"
                )

    def _delete_unpublished_versions(self) -> None:
        """Delete folders no published version names (a killed or failed run's work)."""
        root = self._local_root()
        if root is None or not root.exists():
            return  # object stores: left to the bucket's lifecycle rules
        kept = set()
        for version in self._tables.values():
            kept.add(version.location)
            kept.update(Path(p).parent.as_posix() for p in version.parts.values())
        for schema in SCHEMAS:
            for table in (root / schema).glob("*") if (root / schema).exists() else []:
                for folder in table.glob("v*"):
                    if folder.as_posix() not in kept:
                        shutil.rmtree(folder, ignore_errors=True)

    # Statements -------------------------------------------------------------------------

    def _sql(self, sql: str) -> Any:
        return self.spark.sql(sql)

    def _is_metadata(self, tree: exp.Expression) -> bool:
        names = {table_name(t) for t in tree.find_all(exp.Table)}
        return bool(names) and names <= METADATA_TABLES

    def _resolve(self, tree: exp.Expression, keep: exp.Expression | None = None) -> exp.Expression:
        """Every table reference (but `keep`) as the view of its current version."""
        return resolve_tables(tree, self._view_of, keep)

    def _view_of(self, name: str) -> str | None:
        """The view of a temporary table or of a table's current version, if it exists."""
        if name in self._temps:
            return self._temps[name]
        return self._view(name) if name in self._tables else None

    def _spark_sql(self, tree: exp.Expression) -> str:
        return to_spark(self._resolve(tree.copy()))

    def execute(self, sql: str, params: Sequence[object] | None = None) -> None:
        trees = parse(sql)
        if len(trees) > 1 and params:
            raise SparkTranslationError("parameters in a script of several statements")
        for tree in trees:
            self._run(tree, params)

    def query(self, sql: str, params: Sequence[object] | None = None) -> list[tuple]:
        (tree,) = parse(sql)
        if self._is_metadata(tree):
            return self.meta.query(sql, params)
        frame = self._run(tree, params)
        rows = [tuple(row) for row in frame.collect()] if frame is not None else []
        self._release_superseded()
        return rows

    def query_arrow(self, sql: str) -> pa.Table:
        (tree,) = parse(sql)
        if self._is_metadata(tree):
            return self.meta.query_arrow(sql)
        table = self._sql(self._spark_sql(tree)).toArrow()
        self._release_superseded()
        return table

    def _run(self, tree: exp.Expression, params: Sequence[object] | None) -> Any:
        if self._is_metadata(tree):
            self.meta.execute(tree.sql(dialect="duckdb"), params)
            return None
        tree = bind(tree, params)
        if isinstance(tree, exp.Create):
            return self._create(tree)
        if isinstance(tree, exp.Drop):
            return self._drop(tree)
        if isinstance(tree, exp.Alter):
            return self._alter(tree)
        if isinstance(tree, exp.Insert | exp.Delete | exp.Update | exp.Merge):
            return self._dml(tree)
        if isinstance(tree, exp.Describe):
            name = table_name(tree.this)
            return self.spark.createDataFrame([(c,) for c in self.columns(name)], "name string")
        return self._sql(self._spark_sql(tree))

    def _dml(self, tree: exp.Insert | exp.Delete | exp.Update | exp.Merge) -> None:
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        name = table_name(target)
        source = self._view(name)
        tree = self._resolve(tree, keep=target)
        shape = self._version(name).shape(name)
        if isinstance(tree, exp.Insert):
            next_sql, touched = next_version_insert(tree, shape, source)
        elif isinstance(tree, exp.Delete):
            next_sql, touched = next_version_delete(tree, shape, source)
        elif isinstance(tree, exp.Merge):
            next_sql, touched = next_version_merge(tree, shape, source)
        else:
            next_sql, touched = next_version_update(tree, shape, source)
        self._change(name, next_sql, touched)

    def _create(self, tree: exp.Create) -> None:
        kind = tree.kind
        if kind == "INDEX":
            return  # Spark has no indexes: Parquet's statistics prune instead
        if kind == "SCHEMA":
            return  # schemas exist in the catalog as soon as a table is published there
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        name = table_name(target)
        if tree.expression is not None:
            select = self._spark_sql(tree.expression)
        else:
            columns = [c for c in tree.this.expressions if isinstance(c, exp.ColumnDef)]
            select = "select " + ", ".join(
                f"cast(null as {spark_type(c.args['kind'])}) as {c.name}" for c in columns
            )
            select += " where false"
        if "." not in name:
            cache = kind != "VIEW"
            self._temps[name] = self._register(self._sql(select), cache=cache, sql=select)
            return
        if tree.args.get("exists") and name in self._tables:
            return
        self._change(name, select, None)

    def _drop(self, tree: exp.Drop) -> None:
        for target in tree.args.get("tables") or [tree.this]:
            if tree.kind == "SCHEMA":
                self._drop_schema(target.db or target.name)
                continue
            name = table_name(target)
            if "." not in name:
                if name not in self._temps and not tree.args.get("exists"):
                    raise SparkTranslationError(f"no temporary table {name}")
                self._temps.pop(name, None)
            elif name in self._tables:
                del self._tables[name]
                self._dropped.add(name)

    def _drop_schema(self, schema: str) -> None:
        for name in [t for t in self._tables if t.startswith(f"{schema}.")]:
            del self._tables[name]
            self._dropped.add(name)

    def _alter(self, tree: exp.Alter) -> None:
        """`add column [if not exists]`: the next version carries the new columns (NULL)."""
        name = table_name(tree.this)
        shape = self._version(name).shape(name)
        added = [
            f"cast(null as {spark_type(action.args['kind'])}) as {action.name}"
            for action in tree.args.get("actions") or []
            if isinstance(action, exp.ColumnDef) and action.name not in dict(shape.columns)
        ]
        if not added:
            return
        partition = [shape.partition_column] if shape.partition_column else []
        select = ", ".join(shape.stored + added + partition)
        self._change(name, f"select {select} from {self._view(name)}", None)

    # The engine interface ---------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Changes inside take effect together: a failure restores the versions before."""
        tables = {name: replace(version) for name, version in self._tables.items()}
        dropped, temps, pinned = set(self._dropped), dict(self._temps), self._pinned
        self._pinned = pinned | {v.view for v in tables.values() if v.view} | set(temps.values())
        try:
            with self.meta.transaction():
                yield
        except BaseException:
            self._tables, self._dropped, self._temps = tables, dropped, temps
            raise
        finally:
            self._pinned = pinned

    def load_staging(self, table: str, columns: Sequence[str], source: Path, batch_id: str) -> int:
        """Read with DuckDB (the same rows and ingest rejects as every engine), then replace
        the batch in `staging.<table>` and in the quarantine."""
        from cartwheel.engines.duckdb_staging import INGEST_REJECTS, stage_file

        target = f"staging.{check_identifier(table)}"
        scratch = DuckDBEngine(":memory:")
        try:
            scratch.create_schemas()
            stage_file(scratch.con, table, columns, source, batch_id)
            staged = scratch.query_arrow(f"select * from {target}")
            rejects = scratch.query_arrow(f"select * from {INGEST_REJECTS}")
        finally:
            scratch.close()
        self._temps["cw_staged"] = self._register(self._arrow_frame(staged), cache=True)
        self.execute(f"create table if not exists {target} as select * from cw_staged limit 0")
        self.execute(f"delete from {target} where batch_id = ?", [batch_id])
        self.execute(f"insert into {target} select * from cw_staged")
        if self.table_exists("ops.quarantine"):
            self.execute(
                "delete from ops.quarantine where entity = ? and stage = 'ingest' and batch_id = ?",
                [table, batch_id],
            )
            if rejects.num_rows:
                self._temps["cw_rejects"] = self._register(self._arrow_frame(rejects), cache=True)
                names = ", ".join(check_identifier(name) for name in rejects.schema.names)
                self.execute(f"insert into ops.quarantine ({names}) select {names} from cw_rejects")
        return staged.num_rows

    def _arrow_frame(self, table: pa.Table) -> Any:
        """`table` as a DataFrame, typed by PySpark's own mapping of Arrow types (naive
        timestamps as Spark's default TIMESTAMP, as `createDataFrame` infers them), given
        explicitly: for a table without rows Spark Connect infers nothing."""
        from pyspark.sql.pandas.types import from_arrow_schema

        schema = from_arrow_schema(table.schema, prefer_timestamp_ntz=False)
        return self.spark.createDataFrame(table, schema)

    def build_table(self, qualified_name: str, select_sql: str) -> int:
        check_identifier(qualified_name)
        (tree,) = parse(select_sql)
        self._change(qualified_name, self._spark_sql(tree), None)
        # Counting the registered version computes and keeps it: the statements that read
        # the table next find its rows, not its plan.
        rows = self.spark.table(self._tables[qualified_name].view).count()
        self._release_superseded()
        return rows

    def date_spine_sql(self, start_sql: str, end_sql: str) -> str:
        # DuckDB dialect (it is translated with the model): one row per day.
        return (
            f"select unnest(generate_series(cast({start_sql} as date), "
            f"cast({end_sql} as date), interval 1 day)) as full_date"
        )

    def table_exists(self, qualified_name: str) -> bool:
        check_identifier(qualified_name)
        if qualified_name in METADATA_TABLES:
            return self.meta.table_exists(qualified_name)
        return qualified_name in self._tables

    def columns(self, table: str) -> list[str]:
        check_identifier(table)
        if table in METADATA_TABLES:
            return self.meta.columns(table)
        if table in self._temps:
            return list(self.spark.table(self._temps[table]).columns)
        return [name for name, _ in self._version(table).columns]

    def drop_all(self) -> None:
        for schema in SCHEMAS:
            self._drop_schema(schema)
        for table in METADATA_TABLES:
            self.meta.execute(f"drop table if exists {table}")

    # Publishing -------------------------------------------------------------------------

    def seal(self) -> None:
        """Write the changed tables (new folders, nothing published yet), then seal the
        metadata store that names them."""
        self._write_changes()
        self.meta.seal()
        self._release()

    def publish(self) -> None:
        self.meta.publish()
        published = DuckDBEngine(str(metadata_path(self.settings)), read_only=True)
        try:
            self.meta = published
            self._tables = self._published()
            self._sync_catalog(self._tables)
        finally:
            published.close()

    def discard(self) -> None:
        self._release()
        self.meta.discard()

    def reconnect(self) -> None:
        self.meta.reconnect()

    def close(self) -> None:
        self._release()
        self.meta.close()

    def _release(self) -> None:
        """Forget this engine's views and cached rows."""
        for checkpoint in self._checkpoints.values():
            checkpoint.release()
        self._checkpoints.clear()
        self._plain_views.clear()
        self._temps.clear()
