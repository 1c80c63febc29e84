"""Render every setting of `cartwheel.config.Settings` into docs/configuration.md.

    .venv/bin/python -m tests.config_docs      # rewrite docs/configuration.md

tests/test_config_docs.py fails when docs/configuration.md and the settings model have
drifted apart, or when a setting has no description.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from cartwheel.config import (
    CONFIG_FILE_ENV,
    DEFAULT_CONFIG_FILE,
    ENV_NESTED_DELIMITER,
    ENV_PREFIX,
    Settings,
)

DOCS = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"

TYPE_NAMES = {
    str: "text",
    int: "integer",
    float: "number",
    bool: "true/false",
    Path: "path",
    SecretStr: "secret text",
}
BOUNDS = (
    (annotated_types.Gt, ">", "gt"),
    (annotated_types.Ge, "≥", "ge"),
    (annotated_types.Lt, "<", "lt"),
    (annotated_types.Le, "≤", "le"),
)


def type_name(annotation: Any) -> str:
    """A reader's name for a field's type: `number`, `` `csv` or `parquet` ``, `mapping`."""
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is Literal:
        return " or ".join(f"`{value}`" for value in arguments)
    if origin in (types.UnionType, typing.Union):
        named = [type_name(a) for a in arguments if a is not type(None)]
        return " or ".join(named) + (", optional" if type(None) in arguments else "")
    if origin is dict:
        return "mapping of " + " → ".join(type_name(a) for a in arguments)
    if annotation is Any:
        return "any"
    return TYPE_NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def bounds(field: FieldInfo) -> str:
    """`> 0`, `≥ 0, ≤ 100` from the field's constraints, or empty."""
    found = [
        f"{symbol} {getattr(rule, attribute)}"
        for rule in field.metadata
        for kind, symbol, attribute in BOUNDS
        if isinstance(rule, kind)
    ]
    return ", ".join(found)


def default_text(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if value is None:
        return "none"
    if value == {}:
        return "empty"
    return f"`{value}`"


def leaf_settings(model: type[BaseModel], path: tuple[str, ...] = ()) -> Iterator[tuple]:
    """(dotted path, field) for every setting; nested models are walked, not listed."""
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from leaf_settings(annotation, (*path, name))
        else:
            yield (*path, name), field


def env_name(path: tuple[str, ...]) -> str:
    return ENV_PREFIX + ENV_NESTED_DELIMITER.join(path).upper()


def escape(text: str) -> str:
    return text.replace("|", "\\|")


def rows() -> Iterator[str]:
    for path, field in leaf_settings(Settings):
        kind = type_name(field.annotation)
        limits = bounds(field)
        cells = (
            f"`{'.'.join(path)}`",
            f"`{env_name(path)}`",
            f"{kind} ({limits})" if limits else kind,
            default_text(field),
            field.description or "",
        )
        yield "| " + " | ".join(escape(cell) for cell in cells) + " |"


def render() -> str:
    return "\n".join(
        [
            "# Configuration",
            "",
            "Generated from the settings model (`src/cartwheel/config.py`) by",
            "`python -m tests.config_docs`; a test keeps it current.",
            "",
            "Every setting has a default. A run reads them in this order, each overriding the",
            f"one before: the defaults, the YAML file (`./{DEFAULT_CONFIG_FILE}`, or the file",
            f"named by `{CONFIG_FILE_ENV}`), the `{ENV_PREFIX}*` environment variables, and the",
            "command-line options of the command (`--data-dir`, `--scale`, … in",
            "[cli.md](cli.md)).",
            "",
            "```yaml",
            f"# {DEFAULT_CONFIG_FILE}",
            "engine: postgres",
            "database_url: postgresql://cartwheel@db:5432/shop",
            "schedule_cron: '30 3 * * *'",
            "monitor:",
            "  max_run_age_hours: 49",
            "```",
            "",
            "is the same as",
            "",
            "```bash",
            f"export {env_name(('engine',))}=postgres",
            f"export {env_name(('database_url',))}=postgresql://cartwheel@db:5432/shop",
            f"export {env_name(('schedule_cron',))}='30 3 * * *'",
            f"export {env_name(('monitor', 'max_run_age_hours'))}=49",
            "```",
            "",
            "A key inside a section (`monitor.…`) is joined with "
            f"`{ENV_NESTED_DELIMITER}` in its variable.",
            "A mapping is given in YAML as a mapping, and in its variable as JSON, e.g.",
            f"`{env_name(('quality_thresholds',))}="
            + """'{"CMP01": {"warn": 2, "error": 10}}'`.""",
            "The database password belongs in the URL's variable or in `PGPASSWORD`, never in",
            "the YAML file; it is never printed or logged.",
            "",
            "| YAML key | environment variable | type | default | meaning |",
            "|---|---|---|---|---|",
            *rows(),
            "",
        ]
    )


if __name__ == "__main__":
    DOCS.write_text(render())
    print(f"wrote {DOCS}")
