"""cartwheel: an e-commerce analytics pipeline from raw shop data to a warehouse and dashboard."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cartwheel")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
