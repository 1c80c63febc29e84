"""The one reader of cartwheel's `.sql` files: models, DDL, and the dashboard's and the
forecast's queries, all under `src/cartwheel/` (packaged with it).

SQL written once for several files lives in `models/include/<name>.sql` and is pulled in
by a line of its own: `{{ include name key=value ... }}` (a `,` may follow it, after a
fragment that defines CTEs). The fragment's `{{ key }}` placeholders take the values
(plain names: letters, digits, `_` and `.`), its leading `--` lines document it and are
left out, and its lines take the directive's indentation. A fragment may include another.

Values known only when the SQL runs (a limit, a key, a date) stand as `{{ name }}` in the
file and are put in by `fill`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources

INCLUDES = "models/include"
_INCLUDE = re.compile(
    r"^(?P<indent>[ \t]*)\{\{ include (?P<name>[a-z_]+)(?P<args>(?: [a-z_]+=[\w.]+)*) \}\}"
    r"(?P<comma>,?)[ \t]*$",
    re.MULTILINE,
)
_PLACEHOLDER = re.compile(r"\{\{ ([a-z_]+) \}\}")
_MAX_DEPTH = 4


class IncludeError(ValueError):
    """An include names a missing fragment or does not give exactly its placeholders."""


def fill(sql: str, values: Mapping[str, int | str]) -> str:
    """`sql` with every `{{ name }}` replaced by its value (each must be given)."""
    missing = sorted(set(_PLACEHOLDER.findall(sql)) - values.keys())
    if missing:
        raise KeyError(f"no value for {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda match: str(values[match[1]]), sql)


def _read(path: str) -> str:
    return (resources.files("cartwheel") / path).read_text()


def _fragment(name: str, args: str, depth: int) -> str:
    """The fragment's SQL with the values in place (its includes expanded too)."""
    if depth > _MAX_DEPTH:
        raise IncludeError(f"include {name}: includes nested more than {_MAX_DEPTH} deep")
    try:
        text = _read(f"{INCLUDES}/{name}.sql")
    except FileNotFoundError:
        raise IncludeError(f"include {name}: no file {INCLUDES}/{name}.sql") from None
    lines = text.splitlines()
    while lines and lines[0].startswith("--"):
        lines.pop(0)
    body = "\n".join(lines).strip("\n")
    values = dict(pair.split("=", 1) for pair in args.split())
    wanted = set(_PLACEHOLDER.findall(body))
    if wanted != values.keys():
        raise IncludeError(
            f"include {name} takes {', '.join(sorted(wanted)) or 'no values'}, "
            f"got {', '.join(sorted(values)) or 'none'}"
        )
    body = _PLACEHOLDER.sub(lambda match: values[match[1]], body)
    return _expand(body, depth + 1)


def _expand(text: str, depth: int = 0) -> str:
    def include(match: re.Match[str]) -> str:
        indent = match["indent"]
        body = _fragment(match["name"], match["args"], depth)
        lines = [indent + line if line else line for line in body.splitlines()]
        return "\n".join(lines) + match["comma"]

    return _INCLUDE.sub(include, text)


def sql_text(path: str) -> str:
    """The text of `src/cartwheel/<path>` (e.g. `warehouse/ddl.sql`), includes expanded."""
    return _expand(_read(path))


def sql_statements(path: str) -> list[str]:
    """The statements of a `.sql` file, split at `;` (its SQL has no `;` in literals)."""
    return [statement for statement in sql_text(path).split(";") if statement.strip()]


def sql_folder(path: str) -> dict[str, str]:
    """Name (without `.sql`) → text of each `.sql` file in a folder, includes expanded."""
    folder = resources.files("cartwheel") / path
    return {
        entry.name.removesuffix(".sql"): _expand(entry.read_text())
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    }
