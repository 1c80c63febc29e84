"""cartwheel: an e-commerce analytics pipeline from raw shop data to a warehouse and dashboard."""

# The one place the version is written: pyproject.toml reads it from here (setuptools'
# `attr`, without importing the package), so the command needs no metadata look-up.
__version__ = "0.2.0"
