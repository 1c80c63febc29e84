"""`pyarrow.parquet`, imported the first time a Parquet file is read or written: the
import (with `pyarrow.fs`, which it loads) adds 0.02–0.06 s to a run that has pyarrow
already, and a run over CSV files never needs it."""

from __future__ import annotations

from types import ModuleType


def pyarrow_parquet() -> ModuleType:
    """The `pyarrow.parquet` module, imported on first use."""
    import pyarrow.parquet

    return pyarrow.parquet
