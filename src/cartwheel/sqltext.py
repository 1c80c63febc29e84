"""The two ways a value from outside reaches SQL text: a checked identifier or a quoted
literal (for statements that take no parameters)."""

from __future__ import annotations

import re

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")

#: What DuckDB's trim() removes: Unicode's space separators (category Zs), from the
#: no-break space to the ideographic space; not tabs or line breaks. PostgreSQL's and
#: Spark's trim() remove only the ASCII space, so their translations name these.
SPACE_SEPARATORS = (
    " \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u202f\u205f\u3000"
)


def check_identifier(name: str) -> str:
    """Identifiers reach SQL only after this check (they come from files and config)."""
    for part in name.split("."):
        if not _IDENTIFIER.match(part):
            raise ValueError(f"not a safe SQL identifier: {name!r}")
    return name


def string_literal(value: object) -> str:
    """A SQL string literal for statements that take no parameters (COPY ... TO 'path')."""
    return "'" + str(value).replace("'", "''") + "'"
