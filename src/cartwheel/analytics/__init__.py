"""Analytics: the ten result files and their summary."""

from cartwheel.analytics.runner import QUERIES, run_analytics

__all__ = ["QUERIES", "run_analytics"]
