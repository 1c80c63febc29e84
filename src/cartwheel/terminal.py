"""Text from data, paths and configuration made safe to print on a terminal.

Anything cartwheel prints may hold a user's bytes: a quarantined raw line, a path, a
config value, an error message quoting either. Two things must never reach the terminal
as they are: rich markup (`[/red]` would crash rich or restyle the output) and control
characters (an ANSI escape sequence rewrites the screen; a bidirectional override
reorders what is shown). `visible` replaces every control character by its escape code
(`\\x1b`, `\\n`, `\\u202e`), `plain` wraps the result in a rich `Text` (never parsed as
markup), and `markup_safe` gives a string to embed in markup of our own.
"""

from __future__ import annotations

import re

from rich.markup import escape
from rich.text import Text

# C0 controls (tab, newline and carriage return included: one value, one line), DEL,
# C1 controls, and the Unicode bidirectional embeddings, overrides and isolates.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _code(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(
        char, f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    )


def visible(value: object) -> str:
    """`value` as text with every control character written as its escape code."""
    return _CONTROL.sub(_code, str(value))


def plain(value: object, style: str = "") -> Text:
    """A rich Text of `value` (markup is not interpreted) with control characters visible."""
    return Text(visible(value), style=style)


def markup_safe(value: object) -> str:
    """`value` visible and with rich markup escaped, to embed in a markup string."""
    return escape(visible(value))
