"""Look at the start of a raw CSV file before loading it: encoding, line ending, header.

Only the first bytes are read (never the rows), so this costs the same for any size.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from cartwheel.engines.base import SourceError

SAMPLE_BYTES = 1 << 20


@dataclass
class CsvLayout:
    encoding: str  # a name DuckDB's read_csv accepts: utf-8, utf-16 or latin-1
    new_line: str  # '\n' or '\r\n' (the header's line ending)
    header: list[str] = field(default_factory=list)  # lower-cased, trimmed names
    empty: bool = False  # no bytes at all (or only a byte-order mark)

    def positions(self, columns: tuple[str, ...] | list[str]) -> dict[str, int | None]:
        """Where each contract column sits in the file (None when the file lacks it)."""
        return {c: (self.header.index(c) if c in self.header else None) for c in columns}

    def extra_columns(self, columns: tuple[str, ...] | list[str]) -> list[str]:
        return [name for name in self.header if name not in columns]


def _encoding(sample: bytes) -> str:
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the sample's end is not evidence of anything.
        if error.start >= len(sample) - 3 and error.reason == "unexpected end of data":
            return "utf-8"
    # Invalid UTF-8: if no character in the sample is valid multi-byte UTF-8 either, the
    # file is a single-byte export (Latin-1 / Windows-1252); otherwise it is UTF-8 with a
    # few corrupt rows, which the loader quarantines one by one.
    text = sample.decode("utf-8", errors="replace")
    return "utf-8" if any(ord(ch) > 127 and ch != "\ufffd" for ch in text) else "latin-1"


def inspect_csv(path: Path) -> CsvLayout:
    """Encoding, line ending and header names of a CSV file."""
    try:
        with open(path, "rb") as handle:
            sample = handle.read(SAMPLE_BYTES)
    except IsADirectoryError as error:
        raise SourceError(f"{path}: is a folder, not a file") from error
    except OSError as error:
        raise SourceError(f"{path}: cannot be read ({error.strerror or error})") from error
    encoding = _encoding(sample)
    text = sample.decode("utf-16" if encoding == "utf-16" else encoding, errors="replace")
    text = text.lstrip("\ufeff")
    if not text.strip():
        return CsvLayout(encoding, "\n", [], empty=True)
    if "\x00" in text:
        raise SourceError(f"{path}: binary content, not a CSV text file")
    first_line, _, _ = text.partition("\n")
    new_line = "\r\n" if first_line.endswith("\r") else "\n"
    header = next(csv.reader([first_line.rstrip("\r")]), [])
    return CsvLayout(encoding, new_line, [name.strip().lower() for name in header])
