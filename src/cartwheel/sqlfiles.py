"""The one reader of cartwheel's `.sql` files: models, DDL, and the dashboard's and the
forecast's queries, all under `src/cartwheel/` (packaged with it)."""

from __future__ import annotations

from importlib import resources


def sql_text(path: str) -> str:
    """The text of `src/cartwheel/<path>` (e.g. `warehouse/ddl.sql`)."""
    return (resources.files("cartwheel") / path).read_text()


def sql_statements(path: str) -> list[str]:
    """The statements of a `.sql` file, split at `;` (its SQL has no `;` in literals)."""
    return [statement for statement in sql_text(path).split(";") if statement.strip()]


def sql_folder(path: str) -> dict[str, str]:
    """Name (without `.sql`) → text of each `.sql` file in a folder."""
    folder = resources.files("cartwheel") / path
    return {
        entry.name.removesuffix(".sql"): entry.read_text()
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    }
