"""The engine registry: config accepts exactly the registered engines, each engine
declares its capabilities and its driver's transient errors, and the package's modules
import each other without cycles."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import duckdb
import pytest

from cartwheel.config import Settings
from cartwheel.engines import ENGINES, Capabilities, is_transient_driver_error

SOURCE = Path(__file__).parent.parent / "src" / "cartwheel"


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_every_registered_engine_declares_its_name_and_capabilities(name: str) -> None:
    engine = ENGINES[name].engine_class()
    assert engine.name == name
    assert isinstance(engine.capabilities, Capabilities)


def test_config_accepts_exactly_the_registered_engines(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, engine="duckdb").engine == "duckdb"
    url = "postgresql://cartwheel@localhost:5432/shop"
    assert Settings(data_dir=tmp_path, engine="postgres", database_url=url).engine == "postgres"
    assert Settings(data_dir=tmp_path, engine="spark").engine == "spark"
    with pytest.raises(ValueError, match="Input should be 'duckdb', 'postgres' or 'spark'"):
        Settings(data_dir=tmp_path, engine="oracle")
    with pytest.raises(ValueError, match="engine 'postgres' needs --database-url"):
        Settings(data_dir=tmp_path, engine="postgres")


def test_each_engine_names_its_drivers_transient_errors() -> None:
    psycopg = pytest.importorskip("psycopg")
    assert is_transient_driver_error(duckdb.IOException("Could not set lock on file"))
    assert is_transient_driver_error(psycopg.OperationalError("server closed the connection"))
    assert not is_transient_driver_error(duckdb.ConstraintException("duplicate key"))
    assert not is_transient_driver_error(psycopg.errors.UniqueViolation("duplicate key"))
    assert not is_transient_driver_error(OSError("not a driver's error"))


def module_imports() -> dict[str, set[str]]:
    """cartwheel module -> the cartwheel modules it imports (at load time or later)."""
    modules = {
        ".".join(("cartwheel", *p.relative_to(SOURCE).with_suffix("").parts)).removesuffix(
            ".__init__"
        ): p
        for p in SOURCE.rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        imported: set[str] = set()
        type_only = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):  # also imports inside functions: they run too
            if id(node) in type_only:
                continue
            if isinstance(node, ast.ImportFrom) and node.module:
                imported |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names}
        # Importing a.b.c imports the package a.b first (but a module's own packages are
        # being imported already when it runs).
        own_packages = {name.rsplit(".", depth)[0] for depth in range(name.count(".") + 1)}
        graph[name] = {
            ".".join(target.split(".")[:depth])
            for target in imported & modules.keys()
            for depth in range(2, target.count(".") + 2)
        } - own_packages
    return graph


def test_modules_import_each_other_without_cycles() -> None:
    graph = module_imports()
    assert "cartwheel.engines.base" in graph["cartwheel.engines.duckdb"]
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")


def test_a_cycle_is_found() -> None:
    graph = module_imports()
    graph["cartwheel.sqltext"] = {"cartwheel.engines.base"}  # base imports sqltext
    with pytest.raises(CycleError):
        TopologicalSorter(graph).prepare()
