"""The two ways a value from outside reaches SQL text: a checked identifier or a quoted
literal (for statements that take no parameters)."""

from __future__ import annotations

import re

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def check_identifier(name: str) -> str:
    """Identifiers reach SQL only after this check (they come from files and config)."""
    for part in name.split("."):
        if not _IDENTIFIER.match(part):
            raise ValueError(f"not a safe SQL identifier: {name!r}")
    return name


def string_literal(value: object) -> str:
    """A SQL string literal for statements that take no parameters (COPY ... TO 'path')."""
    return "'" + str(value).replace("'", "''") + "'"
