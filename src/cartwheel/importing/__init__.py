"""Import a shop's own order-line export into the four raw entity files."""

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
