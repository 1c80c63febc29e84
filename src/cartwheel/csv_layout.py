"""Look at the start of a raw CSV file before loading it: encoding, line ending, header.

Only the first bytes are read (never the rows), so this costs the same for any size.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cartwheel.errors import SourceError

SAMPLE_BYTES = 1 << 20
BINARY_NUL_SHARE = 0.1
SCAN_CHUNK_BYTES = 1 << 24


@dataclass
class CsvLayout:
    encoding: str  # utf-8, utf-16 (little-endian), utf-16-be or windows-1252
    new_line: str  # '\n' or '\r\n' (the header's line ending)
    header: list[str] = field(default_factory=list)  # lower-cased, trimmed names
    empty: bool = False  # no bytes at all (or only a byte-order mark)

    def positions(self, columns: tuple[str, ...] | list[str]) -> dict[str, int | None]:
        """Where each contract column sits in the file (None when the file lacks it)."""
        return {c: (self.header.index(c) if c in self.header else None) for c in columns}

    def extra_columns(self, columns: tuple[str, ...] | list[str]) -> list[str]:
        return [name for name in self.header if name not in columns]


# The bytes Windows-1252 reads differently from Latin-1 (0x80-0x9f: € ‚ ƒ „ … “ ” ‘ ’ – —);
# the five it leaves undefined keep their Latin-1 meaning (control characters).
_WINDOWS_1252 = {
    byte: char
    for byte in range(0x80, 0xA0)
    if (char := bytes([byte]).decode("cp1252", errors="ignore"))
}


def _encoding(sample: bytes) -> str:
    if sample.startswith(b"\xfe\xff"):
        return "utf-16-be"
    if sample.startswith(b"\xff\xfe"):
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
    return "utf-8" if any(ord(ch) > 127 and ch != "\ufffd" for ch in text) else "windows-1252"


def decode(data: bytes, encoding: str) -> str:
    """The text of a raw file's bytes in one of the encodings `inspect_csv` names."""
    if encoding == "windows-1252":
        return data.decode("latin-1").translate(_WINDOWS_1252)
    return data.decode("utf-16" if encoding.startswith("utf-16") else encoding, errors="replace")


def readable_copy(path: Path, encoding: str, folder: Path) -> Path:
    """`path` as UTF-8 in `folder`, for the encodings DuckDB's reader lacks (UTF-16
    big-endian, Windows-1252): the same lines, so line numbers stay those of `path`."""
    copy = folder / path.name
    copy.write_text(decode(path.read_bytes(), encoding).lstrip("\ufeff"), encoding="utf-8")
    return copy


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
    text = decode(sample, encoding).lstrip("\ufeff")
    if not text.strip():
        return CsvLayout(encoding, "\n", [], empty=True)
    # The header ends at the first line break: LF, CRLF or a lone CR (an old Mac export).
    first_line = re.split("\r\n|\n|\r", text, maxsplit=1)[0]
    # A stray NUL in a row is that row's fault (quarantined); NULs in the header or in
    # more than a tenth of the bytes mean the file is not text at all.
    if "\x00" in first_line or text.count("\x00") > BINARY_NUL_SHARE * len(text):
        raise SourceError(f"{path}: binary content, not a CSV text file")
    new_line = "\r\n" if text.startswith("\r\n", len(first_line)) else "\n"
    try:
        header = next(csv.reader([first_line]), [])
    except csv.Error as error:  # e.g. a header field over the csv module's 128 kB limit
        raise SourceError(f"{path}: the header cannot be read ({error})") from error
    return CsvLayout(encoding, new_line, [name.strip().lower() for name in header])


@dataclass(frozen=True)
class LineBreaks:
    """What one pass over a file's bytes found about its line breaks."""

    empty_lines: bool  # a line with nothing on it (the reader skips it)
    mixed: bool  # not every break is the same: a stray CRLF, a stray LF or a lone CR
    nul_bytes: bool  # a NUL byte somewhere (its record is quarantined)


def scan_line_breaks(path: Path, encoding: str) -> LineBreaks:
    """One chunked pass (C-speed byte counts, no rows) over the whole file."""
    if encoding == "utf-16":
        return LineBreaks(empty_lines=False, mixed=False, nul_bytes=True)  # not looked at
    empty, nul, tail = False, False, b""
    carriage = newline = pairs = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(SCAN_CHUNK_BYTES):
            window = tail + chunk
            empty = empty or b"\n\n" in window or b"\n\r\n" in window
            nul = nul or b"\0" in chunk
            # Pairs split by a chunk boundary are counted in the next window's overlap.
            pairs += chunk.count(b"\r\n") + (tail[-1:] == b"\r" and chunk[:1] == b"\n")
            carriage += chunk.count(b"\r")
            newline += chunk.count(b"\n")
            tail = window[-2:]
    return LineBreaks(empty, carriage > 0 and not carriage == newline == pairs, nul)


def with_uniform_line_breaks(path: Path, folder: Path) -> Path:
    """A copy of the file in `folder` whose every line break is LF: a CRLF pair and a lone
    CR each become one LF, so every physical line keeps its number. The file is read
    whole and rewritten by two byte replacements (C speed, no loop over rows)."""
    copy = folder / f"uniform-{path.name}"
    copy.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
    return copy


def quoting_quotes(data: np.ndarray) -> np.ndarray:
    """Which quote characters in `data` (code units) open, close or escape a quoted value.

    The reader takes a quote in the middle of an unquoted value (`c"hen`) as a literal
    character, so counting every quote puts the parity off from there on. Judged from the
    neighbours alone (vectorised, an approximation of the reader): a quote counts when the
    unit before it starts a value (delimiter, line break, file start), the unit after it
    ends one (delimiter, line break, file end), or either neighbour is a quote.
    """
    quote = data == 34
    edge = quote | (data == 44) | (data == 10) | (data == 13)
    before = np.concatenate([[True], edge[:-1]])
    after = np.concatenate([edge[1:], [True]])
    return quote & (before | after)


def blank_lines(path: Path, encoding: str) -> list[tuple[int, int]]:
    """Empty lines outside quoted values, as (physical line, reader record number).

    CSV readers skip empty lines but DuckDB still counts each as a record when it numbers
    rejected records; the record number is the line minus the line breaks inside quoted
    values before it. Called when `scan_line_breaks` found an empty line.
    """
    if encoding.startswith("utf-16"):
        return []
    data = np.fromfile(path, dtype=np.uint8)
    newlines = np.flatnonzero(data == 10)
    starts = np.concatenate([[0], newlines + 1])[: len(newlines)]
    length = newlines - starts
    carriage = data[np.minimum(starts, len(data) - 1)] == 13
    empty = (length == 0) | ((length == 1) & carriage)
    # Inside quotes: an odd number of quote characters before the position.
    quotes = np.concatenate([[0], np.cumsum(quoting_quotes(data))])
    outside = quotes[starts] % 2 == 0
    quoted_breaks = np.concatenate([[0], np.cumsum(quotes[newlines] % 2 == 1)])
    lines = np.flatnonzero(empty & outside) + 1
    return [(int(line), int(line - quoted_breaks[line - 1])) for line in lines if line > 1]
