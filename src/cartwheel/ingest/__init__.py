"""Ingest: bulk-load raw files into the staging schema, one batch at a time."""

from cartwheel.ingest.raw_files import find_raw_files, ingest

__all__ = ["find_raw_files", "ingest"]
