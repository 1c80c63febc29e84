"""What the dashboard shows: pages, their visuals and the filters each visual obeys.

One definition serves the page (it lays itself out from it) and `dashboard_metadata.json`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

ALL_FILTERS = ("date_range", "category", "state", "payment_method")
FILTERS = (
    {
        "id": "date_range",
        "label": "Date range",
        "type": "month range",
        "applies_to": "order date (calendar month, inclusive)",
    },
    {"id": "category", "label": "Category", "type": "single choice", "applies_to": "product"},
    {"id": "state", "label": "State", "type": "single choice", "applies_to": "customer"},
    {
        "id": "payment_method",
        "label": "Payment method",
        "type": "single choice",
        "applies_to": "transaction",
    },
)


@dataclass(frozen=True)
class Visual:
    id: str
    title: str
    kind: str  # kpi, line, bar, hbar, doughnut, stacked, scatter, table, status
    source: str
    filters: tuple[str, ...] = ALL_FILTERS
    note: str = ""


@dataclass(frozen=True)
class Page:
    id: str
    title: str
    visuals: tuple[Visual, ...] = field(default_factory=tuple)


PAGES = (
    Page(
        "executive",
        "Executive Summary",
        (
            Visual("kpis", "Key figures", "kpi", "sales cube + orders cube"),
            Visual("monthly_trend", "Monthly revenue and orders", "combo", "sales cube"),
            Visual("revenue_by_category", "Revenue by category", "hbar", "sales cube"),
            Visual("payment_mix", "Payment method mix (revenue)", "doughnut", "sales cube"),
            Visual("revenue_by_state", "Revenue by state", "bar", "sales cube"),
        ),
    ),
    Page(
        "products",
        "Product Analysis",
        (
            Visual(
                "top_products",
                "Top 10 products by revenue",
                "hbar",
                "products",
                ("date_range", "category"),
                "among the best sellers of each category",
            ),
            Visual(
                "subcategory_breakdown",
                "Revenue by category and sub-category",
                "stacked",
                "sub-categories",
                ("date_range", "category"),
            ),
            Visual(
                "price_vs_profit",
                "Price vs profit per product",
                "scatter",
                "products",
                ("date_range", "category"),
            ),
            Visual(
                "product_table",
                "Best-selling products",
                "table",
                "products",
                ("date_range", "category"),
            ),
        ),
    ),
    Page(
        "customers",
        "Customer Insights",
        (
            Visual(
                "spend_segments",
                "Customers by lifetime spend",
                "bar",
                "customers",
                ("state",),
                "lifetime spend, all dates",
            ),
            Visual(
                "acquisition",
                "New customers per month",
                "line",
                "customers",
                ("date_range", "state"),
                "by registration month",
            ),
            Visual(
                "top_customers",
                "Top customers by lifetime spend",
                "table",
                "customers",
                ("state",),
            ),
            Visual(
                "segment_mix",
                "Revenue by customer segment per month",
                "stacked",
                "orders cube",
                ("date_range", "state", "payment_method"),
            ),
        ),
    ),
    Page(
        "geography",
        "Geographic & Trends",
        (
            Visual("state_performance", "Revenue and order value by state", "combo", "cubes"),
            Visual(
                "day_of_week",
                "Average revenue per weekday",
                "bar",
                "weekdays",
                ("date_range", "category"),
            ),
            Visual("category_trend", "Monthly revenue by category", "stacked", "sales cube"),
            Visual(
                "revenue_forecast",
                "Daily revenue: last 6 months and the forecast with its 80% band",
                "line",
                "forecast",
                ("category",),
                "the analytics step's forecast (forecast_revenue.csv)",
            ),
        ),
    ),
    Page(
        "quality",
        "Data Quality",
        (
            Visual("quality_score", "Quality score and grade", "status", "quality report", ()),
            Visual("checks_by_dimension", "Checks by dimension", "stacked", "quality", ()),
            Visual("quarantine_by_reason", "Quarantined rows by reason", "hbar", "quarantine", ()),
            Visual("quality_history", "Quality score over runs", "line", "quality", ()),
        ),
    ),
    Page(
        "pipeline",
        "Pipeline Health",
        (
            Visual("monitor_status", "Monitor status", "status", "monitoring report", ()),
            Visual("last_runs", "Last runs", "bar", "run history", ()),
            Visual("step_durations", "Step durations (last run)", "hbar", "run history", ()),
            Visual("run_table", "Run history", "table", "run history", ()),
        ),
    ),
)


def layout() -> list[dict]:
    """Pages and visuals as plain data (for the page and the metadata file)."""
    return [
        {
            "id": page.id,
            "title": page.title,
            "visuals": [
                {**asdict(visual), "filters": list(visual.filters)} for visual in page.visuals
            ],
        }
        for page in PAGES
    ]
