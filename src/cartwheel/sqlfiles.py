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
_COMMENT = re.compile(r"--[^\n]*")
_STATEMENT_END = re.compile(r"--[^\n]*|;")
_MAX_DEPTH = 4


class IncludeError(ValueError):
    """An include names a missing fragment or does not give exactly its placeholders."""


def fill(sql: str, values: Mapping[str, object]) -> str:
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
    """The statements of a `.sql` file (see `split_statements`)."""
    return split_statements(sql_text(path))


def split_statements(text: str) -> list[str]:
    """Statements split at each `;` outside a `--` comment (string literals hold no `;`
    or `--`); a piece that is only comments is no statement."""
    ends = [m.start() for m in _STATEMENT_END.finditer(text) if m[0] == ";"]
    pieces = [text[a + 1 : b] for a, b in zip([-1, *ends], [*ends, len(text)], strict=True)]
    return [piece for piece in pieces if _COMMENT.sub("", piece).strip()]


def table_ddl(path: str, table: str) -> str:
    """The `create table` statement of one table in a DDL file (with its comments)."""
    start = re.compile(rf"^create table (?:if not exists )?{re.escape(table)} \(", re.MULTILINE)
    found = [s.strip() for s in sql_statements(path) if start.search(s)]
    if len(found) != 1:
        raise KeyError(f"{path} does not create {table} once")
    return found[0]


def sql_folder(path: str) -> dict[str, str]:
    """Name (without `.sql`) → text of each `.sql` file in a folder, includes expanded."""
    folder = resources.files("cartwheel") / path
    return {
        entry.name.removesuffix(".sql"): _expand(entry.read_text())
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    }
