"""The parts of docs/contract.md and docs/architecture.md that are generated from the code.

    .venv/bin/python -m tests.generated_docs      # rewrite the generated blocks

Each generated block stands between `<!-- generated: NAME -->` and `<!-- end: NAME -->`;
the prose around it is written by hand. tests/test_generated_docs.py fails when a block
and the code have drifted apart.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

import sqlglot

from cartwheel.analytics import QUERIES
from cartwheel.contract import (
    MANDATORY_COLUMNS,
    OPTIONAL_COLUMNS,
    PRIMARY_KEYS,
    RAW_COLUMNS,
    WAREHOUSE_KEYS,
)
from cartwheel.engines import ENGINES
from cartwheel.models import DATE_SPINE, load_models
from cartwheel.orchestration.steps import STEPS

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "cartwheel"
LAYERS = ("staging", "production", "warehouse", "analytics")


def names(items: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"`{item}`" for item in items) or "—"


def raw_entities() -> str:
    rows = [
        "| file | columns, in order | every file has | may be absent | key |",
        "|---|---|---|---|---|",
    ]
    for entity, columns in RAW_COLUMNS.items():
        rows.append(
            f"| `{entity}` | {names(columns)} | {names(MANDATORY_COLUMNS[entity])} "
            f"| {names(OPTIONAL_COLUMNS.get(entity, ()))} | `{PRIMARY_KEYS[entity]}` |"
        )
    return "\n".join(rows)


def warehouse_keys() -> str:
    rows = ["| table | key | indexed (where the engine has indexes) |", "|---|---|---|"]
    for table, (key, indexed) in WAREHOUSE_KEYS.items():
        rows.append(f"| `{table}` | `{key}` | {names(indexed)} |")
    return "\n".join(rows)


def ddl_columns(layer: str) -> dict[str, list[str]]:
    """The columns of each table that `<layer>/ddl.sql` creates in the layer's schema."""
    ddl = (PACKAGE / layer / "ddl.sql").read_text()
    tables = {}
    for statement in sqlglot.parse(ddl, read="duckdb"):
        if isinstance(statement, sqlglot.exp.Create) and statement.kind == "TABLE":
            name = statement.this.this.sql()
            if name.startswith(f"{layer}."):
                columns = statement.this.expressions
                tables[name] = [c.name for c in columns if isinstance(c, sqlglot.exp.ColumnDef)]
    return tables


def layer_tables() -> str:
    """Production and warehouse tables: their DDL, and the warehouse tables built whole
    from a model (the model's output columns)."""
    tables = ddl_columns("production") | ddl_columns("warehouse")
    for model in load_models("warehouse"):
        select = model.sql.replace(DATE_SPINE, "select null as full_date")
        tables.setdefault(
            model.qualified_name, sqlglot.parse_one(select, read="duckdb").named_selects
        )
    rows = ["| table | columns, in order |", "|---|---|"]
    rows += [f"| `{name}` | {names(columns)} |" for name, columns in tables.items()]
    return "\n".join(rows)


def analytics_files() -> str:
    """Each analytics CSV and its header: the output columns of its model."""
    models = {m.name: m for m in load_models("analytics")}
    rows = ["| file | header |", "|---|---|"]
    for name in QUERIES:
        header = ",".join(sqlglot.parse_one(models[name].sql, read="duckdb").named_selects)
        rows.append(f"| `{name}.csv` | `{header}` |")
    return "\n".join(rows)


def node(name: str) -> str:
    return name.replace(".", "_")


def model_graph() -> str:
    """The SQL models (rounded) and the tables they read (square), by schema; the
    `ops` tables (batches, vocabulary, quarantine) are left out for readability."""
    models = {m.qualified_name: m for layer in LAYERS for m in load_models(layer)}
    edges = sorted(
        (source, name)
        for name, model in models.items()
        for source in model.references - {name}
        if not source.startswith("ops.")
    )
    tables = {source for source, _ in edges} | set(models)
    lines = ["```mermaid", "flowchart LR"]
    for layer in LAYERS:
        lines.append(f"  subgraph {layer}")
        for name in sorted(t for t in tables if t.startswith(f"{layer}.")):
            label = name.split(".", 1)[1]
            shape = f"({label})" if name in models else f"[{label}]"
            lines.append(f"    {node(name)}{shape}")
        lines.append("  end")
    lines += [f"  {node(source)} --> {node(target)}" for source, target in edges]
    lines.append("```")
    return "\n".join(lines)


def run_steps() -> str:
    rows = ["| step | per batch | reads | writes |", "|---|---|---|---|"]
    for step in STEPS.values():
        per_batch = "yes" if step.per_batch else "no"
        rows.append(f"| `{step.name}` | {per_batch} | {names(step.reads)} | {names(step.writes)} |")
    return "\n".join(rows)


def engines() -> str:
    fields = None
    rows = []
    for name, entry in ENGINES.items():
        capabilities = entry.engine_class().capabilities
        fields = fields or list(vars(capabilities))
        marks = " | ".join("yes" if getattr(capabilities, f) else "no" for f in fields)
        rows.append(f"| `{name}` | `{entry.module}` | {marks} |")
    header = "| engine | module | " + " | ".join(f.replace("_", " ") for f in fields or []) + " |"
    return "\n".join([header, "|---|---|" + "---|" * len(fields or []), *rows])


def summary(path: Path) -> str:
    """A module's docstring, its first paragraph on one line."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    return " ".join(doc.split("\n\n")[0].split())


def module_map() -> str:
    rows = ["| module | what it is | modules in it |", "|---|---|---|"]
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name != "__init__.py":
            rows.append(f"| `cartwheel.{path.stem}` | {summary(path)} | |")
    for init in sorted(PACKAGE.glob("*/**/__init__.py")):
        package = init.parent
        inside = sorted(p.stem for p in package.glob("*.py") if p.name != "__init__.py")
        dotted = ".".join(package.relative_to(PACKAGE.parent).parts)
        rows.append(f"| `{dotted}` | {summary(init)} | {', '.join(inside)} |")
    return "\n".join(rows)


BLOCKS: dict[Path, dict[str, Callable[[], str]]] = {
    ROOT / "docs" / "contract.md": {
        "raw-entities": raw_entities,
        "tables": layer_tables,
        "warehouse-keys": warehouse_keys,
        "analytics-files": analytics_files,
    },
    ROOT / "docs" / "architecture.md": {
        "model-graph": model_graph,
        "steps": run_steps,
        "engines": engines,
        "modules": module_map,
    },
}


def render(path: Path, text: str) -> str:
    """`text` with each generated block of `path` written afresh."""
    for name, make in BLOCKS[path].items():
        block = re.search(rf"<!-- generated: {name} -->\n(.*?)<!-- end: {name} -->", text, re.S)
        if block is None:
            raise ValueError(f"{path.name}: no generated block {name!r}")
        text = text[: block.start(1)] + make() + "\n" + text[block.end(1) :]
    return text


if __name__ == "__main__":
    for path in BLOCKS:
        path.write_text(render(path, path.read_text()))
        print(f"wrote {path}")
