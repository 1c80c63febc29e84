"""Import a shop's own order-line export into the four raw entity files.

The importer (duckdb, pyarrow) is loaded on first use of its names: the CLI reads the
presets' titles from `cartwheel.importing.mapping` for every command's help text.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cartwheel.importing.importer import ImportInputError, ImportResult, import_export
    from cartwheel.importing.mapping import (
        Mapping,
        MappingError,
        load_mapping,
        load_preset,
        preset_names,
    )

__all__ = [
    "ImportInputError",
    "ImportResult",
    "Mapping",
    "MappingError",
    "import_export",
    "load_mapping",
    "load_preset",
    "preset_names",
]
_FROM_IMPORTER = {"ImportInputError", "ImportResult", "import_export"}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = "importer" if name in _FROM_IMPORTER else "mapping"
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
