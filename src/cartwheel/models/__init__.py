"""SQL models: one `.sql` file per table, in a folder per layer, run in dependency order."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from graphlib import TopologicalSorter

from cartwheel import progress
from cartwheel.engines.base import SCHEMAS, Engine
from cartwheel.sqlfiles import sql_folder

DATE_SPINE = "{{ date_spine }}"
_REFERENCE = re.compile(r"\b(" + "|".join(SCHEMAS) + r")\.([a-z_][a-z0-9_]*)\b")


@dataclass(frozen=True)
class Model:
    layer: str
    name: str
    sql: str

    @property
    def qualified_name(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def references(self) -> set[str]:
        return {f"{schema}.{table}" for schema, table in _REFERENCE.findall(self.sql)}


def load_models(layer: str) -> list[Model]:
    """The models of one layer, each after the models of that layer it reads."""
    models = {
        f"{layer}.{name}": Model(layer, name, sql)
        for name, sql in sql_folder(f"models/{layer}").items()
    }
    graph = {name: model.references & models.keys() - {name} for name, model in models.items()}
    return [models[name] for name in TopologicalSorter(graph).static_order()]


def render(model: Model, engine: Engine) -> str:
    """The model's SELECT (model dialect), with engine-specific pieces filled in."""
    sql = model.sql
    if DATE_SPINE in sql:
        # The model defines a `date_bounds` CTE with min_date and max_date.
        spine = engine.date_spine_sql(
            "(select min_date from date_bounds)", "(select max_date from date_bounds)"
        )
        return sql.replace(DATE_SPINE, spine)
    return sql


def build_layer(engine: Engine, layer: str, step: str | None = None) -> dict[str, int]:
    """Build every table of a layer from its model; returns rows per table. With `step`,
    each table's rows and rate are reported as that step's progress."""
    rows = {}
    for model in load_models(layer):
        began = time.perf_counter()
        rows[model.qualified_name] = engine.build_table(model.qualified_name, render(model, engine))
        if step is not None:
            progress.report(
                step, model.name, rows[model.qualified_name], time.perf_counter() - began
            )
    return rows
