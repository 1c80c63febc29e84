"""The engine registry: config accepts exactly the registered engines, each engine
declares its capabilities and its driver's transient errors, the package's modules
import each other without cycles, and SQL has one door (no caller outside `engines/`
translates)."""

from __future__ import annotations

import ast
import re
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


# Modules that translate SQL; only engines may use them.
TRANSLATORS = ("sqlglot", "cartwheel.engines.translation", "cartwheel.engines.spark_sql")
_ENGINE_LIKE = re.compile(r"engine|translator", re.IGNORECASE)


def translating_lines(source: str) -> list[int]:
    """Lines that translate SQL themselves: an import of a translator, or a call of
    `translate` on an engine (or translator)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom | ast.Import):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names]
            if any(n == t or n.startswith(f"{t}.") for n in names for t in TRANSLATORS):
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.Attribute)
            and node.attr.lstrip("_") == "translate"
            and _ENGINE_LIKE.search(ast.unparse(node.value))
        ):
            lines.append(node.lineno)
    return sorted(lines)


def test_no_caller_outside_engines_translates_sql() -> None:
    found = {
        f"{path.relative_to(SOURCE)}:{line}"
        for path in SOURCE.rglob("*.py")
        if "engines" not in path.relative_to(SOURCE).parts
        for line in translating_lines(path.read_text())
    }
    assert found == set(), "send model SQL to the engine, which translates it"


def test_a_caller_that_translates_is_found() -> None:
    source = (
        "from cartwheel.engines.translation import PostgresTranslator\n"
        "rows = engine.query(engine.translate(sql))\n"
        "self._engine._translate(sql)\n"
        "text = raw.decode('latin-1').translate(table)\n"  # str.translate: not SQL
    )
    assert translating_lines(source) == [1, 2, 3]


def test_a_missing_driver_is_named_with_its_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import importlib.util

    from typer.testing import CliRunner

    from cartwheel.cli import app
    from cartwheel.engines import missing_driver

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "psycopg" else real(n, *a)
    )
    hint = "engine 'postgres' needs psycopg: pip install 'cartwheel[postgres]'"
    assert missing_driver("postgres") == hint
    assert missing_driver("duckdb") is None
    url = "postgresql://shop@db.example.com/cartwheel"
    arguments = ["run", "--engine", "postgres", "--database-url", url]
    result = CliRunner().invoke(app, [*arguments, "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: {hint}"]
