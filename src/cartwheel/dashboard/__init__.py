"""The dashboard: one self-contained HTML file built from the warehouse on every run."""

from cartwheel.dashboard.page import HTML_NAME, METADATA_NAME, DashboardResult, build_dashboard

__all__ = ["HTML_NAME", "METADATA_NAME", "DashboardResult", "build_dashboard"]
