"""cartwheel: an e-commerce analytics pipeline from raw shop data to a warehouse and dashboard."""

__version__ = "0.1.0"
