"""Revenue forecast: forecast_revenue.csv, its backtest against seasonal-naive, yearly and
weekday seasonality, too little history, and the numpy model against statsmodels'."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from cartwheel.analytics import forecast
from cartwheel.analytics.forecast import (
    Z_95,
    daily_revenue,
    deterministic_terms,
    fit_predict,
    revenue_forecast,
    seasonal_naive,
    smape,
)
from cartwheel.config import Settings
from cartwheel.engines import connect_reader
from cartwheel.orchestration import Pipeline

HEADER = "date,category,forecast,lower_80,upper_80,lower_95,upper_95"
CATEGORIES = ["All", "Beauty", "Books", "Clothing", "Electronics", "Home & Kitchen", "Sports"]


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_forecast_file_has_90_days_for_the_total_and_each_category(sf1_run: Path, sf1_db) -> None:
    path = sf1_run / "analytics" / "forecast_revenue.csv"
    assert path.read_text().splitlines()[0] == HEADER
    rows = rows_of(path)
    assert len(rows) == 90 * 7
    assert list(dict.fromkeys(r["category"] for r in rows)) == CATEGORIES
    last_sale = sf1_db.execute(
        "select max(full_date) from warehouse.fact_sales join warehouse.dim_date using (date_key)"
    ).fetchall()[0][0]
    expected = [str(last_sale + timedelta(days=d)) for d in range(1, 91)]
    for category in CATEGORIES:
        assert [r["date"] for r in rows if r["category"] == category] == expected
    for r in rows:
        low95, low80, mid, high80, high95 = (
            float(r[k]) for k in ("lower_95", "lower_80", "forecast", "upper_80", "upper_95")
        )
        assert 0 <= low95 <= low80 <= mid <= high80 <= high95, r


def test_backtest_beats_seasonal_naive_on_generated_data(sf1_run: Path) -> None:
    summary = json.loads((sf1_run / "analytics" / "analytics_summary.json").read_text())
    backtest = summary["forecast_backtest"]
    assert backtest["status"] == "ok"
    assert backtest["holdout_days"] == 60 and backtest["history_days"] == 731
    assert "AutoReg" in backtest["model"] and "yearly" in backtest["model"]
    assert 0 < backtest["smape"] < backtest["seasonal_naive_smape"]


def test_model_carries_the_weekday_pattern_and_the_november_december_peak(sf1_run: Path) -> None:
    engine = connect_reader(Settings(data_dir=sf1_run))
    try:
        series = daily_revenue(engine)
    finally:
        engine.close()
    assert series is not None and series.first_day == np.datetime64("2024-01-01")
    year = fit_predict(series.named()[0][1], 365)[0]  # 2026-01-01 ... 2026-12-31
    days = np.datetime64("2026-01-01") + np.arange(365)
    months = days.astype("datetime64[M]").astype(int) % 12 + 1
    peak, autumn = year[months >= 11].mean(), year[(months >= 8) & (months <= 9)].mean()
    assert peak > 1.3 * autumn  # the generator's Nov-Dec factors are 1.35-1.55
    weekday = (days.astype("datetime64[D]").astype(int) + 3) % 7  # 0 = Monday
    assert year[weekday >= 5].mean() > 1.1 * year[weekday < 5].mean()  # weekends sell more


def test_horizon_is_configurable(sf1_run: Path) -> None:
    engine = connect_reader(Settings(data_dir=sf1_run))
    try:
        table, backtest = revenue_forecast(engine, 14)
    finally:
        engine.close()
    assert table is not None and table.num_rows == 14 * 7
    assert backtest["horizon_days"] == 14


def test_smape_and_seasonal_naive_by_hand() -> None:
    actual = np.array([100.0, 0.0, 50.0])
    predicted = np.array([110.0, 0.0, 100.0])
    assert smape(actual, predicted) == pytest.approx(100 / 3 * (20 / 210 + 0 + 100 / 150))
    history = np.arange(1.0, 15.0)  # two weeks: 1..14
    assert seasonal_naive(history, 9).tolist() == [8, 9, 10, 11, 12, 13, 14, 8, 9]


def short_run(tmp_path: Path, end: str) -> Path:
    data_dir = tmp_path / "data"
    settings = Settings(
        data_dir=data_dir,
        scale=0.05,
        generator={"start": "2025-01-01", "end": end},
    )
    Pipeline(settings).run(steps=["generate", "ingest", "quality", "production", "warehouse"])
    Pipeline(settings).run(steps=["analytics"])
    return data_dir


def test_under_eight_weeks_of_history_says_so_and_writes_no_forecast(tmp_path: Path) -> None:
    data_dir = short_run(tmp_path, "2025-02-14")  # 45 days
    assert not (data_dir / "analytics" / "forecast_revenue.csv").exists()
    summary = json.loads((data_dir / "analytics" / "analytics_summary.json").read_text())
    backtest = summary["forecast_backtest"]
    assert backtest["status"] == "insufficient_history"
    assert backtest["history_days"] == (date(2025, 2, 14) - date(2025, 1, 1)).days + 1
    assert backtest["smape"] is None and backtest["seasonal_naive_smape"] is None
    assert "at least 56 (8 weeks) needed; no forecast written" in backtest["message"]
    logs = "".join(path.read_text() for path in (data_dir / "logs").glob("*.jsonl"))
    assert logs.count("forecast: only 45 days") == 1  # one line, in the analytics run's log
    engine = connect_reader(Settings(data_dir=data_dir))
    try:
        view = forecast.dashboard_view(engine, (data_dir,))
    finally:
        engine.close()
    assert view["note"] == backtest["message"] and view["forecast_dates"] == []
    assert len(view["series"]["All"]["history"]) == 45


def test_eight_weeks_forecast_without_yearly_terms_and_without_backtest(tmp_path: Path) -> None:
    data_dir = short_run(tmp_path, "2025-03-01")  # 60 days: enough to forecast, not to hold out
    rows = rows_of(data_dir / "analytics" / "forecast_revenue.csv")
    assert len(rows) == 90 * 7
    backtest = json.loads((data_dir / "analytics" / "analytics_summary.json").read_text())[
        "forecast_backtest"
    ]
    assert backtest["status"] == "ok" and backtest["smape"] is None
    assert "yearly" not in backtest["model"]


def exact_ar1_revenue(days: int) -> np.ndarray:
    """Daily revenue whose log1p follows the model with no noise at all: a level, a trend,
    a Saturday and Sunday lift and 0.5 of the day before."""
    terms = deterministic_terms(0, days, yearly=False)
    effect = terms @ np.array([3.0, 0.002, 0.0, 0.0, 0.0, 0.0, 0.4, 0.3])
    log_revenue = np.empty(days)
    log_revenue[0] = 8.0
    for day in range(1, days):  # the recursion that defines the fixture, 120 steps
        log_revenue[day] = effect[day] + 0.5 * log_revenue[day - 1]
    return np.expm1(log_revenue)


def test_a_series_the_model_describes_exactly_is_continued_exactly() -> None:
    revenue = exact_ar1_revenue(120 + 14)
    bands = fit_predict(revenue[:120], 14)
    assert bands.shape == (5, 14)
    np.testing.assert_allclose(bands[0], revenue[120:], rtol=1e-9)
    np.testing.assert_allclose(bands[1:], np.tile(revenue[120:], (4, 1)), rtol=1e-6)


def test_bands_widen_with_the_horizon_at_the_normal_quantiles() -> None:
    revenue = exact_ar1_revenue(200)
    revenue[::9] *= 1.3  # a sale every ninth day: residuals the model cannot explain
    forecast_, _, _, lower_95, upper_95 = np.log1p(fit_predict(revenue, 30))
    half_width = (upper_95 - lower_95) / 2
    assert np.all(np.diff(half_width) >= 0) and half_width[0] > 0
    assert abs(Z_95 - 1.959964) < 1e-6
    np.testing.assert_allclose(upper_95 - forecast_, half_width, rtol=1e-9)


def test_numpy_model_equals_statsmodels_autoreg(sf1_run: Path) -> None:
    pd = pytest.importorskip("pandas")
    ar_model = pytest.importorskip("statsmodels.tsa.ar_model")
    deterministic = pytest.importorskip("statsmodels.tsa.deterministic")
    engine = connect_reader(Settings(data_dir=sf1_run))
    try:
        series = daily_revenue(engine)
    finally:
        engine.close()
    assert series is not None
    for _, values in series.named():
        for history in (values, values[:-60], values[:100]):  # yearly terms, and none
            yearly = [deterministic.Fourier(365.25, 3)] if len(history) >= 365 else []
            terms = deterministic.DeterministicProcess(
                pd.RangeIndex(len(history)),
                constant=True,
                order=1,
                seasonal=True,
                period=7,
                additional_terms=yearly,
            )
            endog = pd.Series(np.log1p(np.maximum(history, 0)))
            fitted = ar_model.AutoReg(endog, lags=1, trend="n", deterministic=terms).fit()
            predicted = fitted.get_prediction(start=len(history), end=len(history) + 89)
            expected = np.vstack(
                [
                    np.asarray(predicted.predicted_mean),
                    np.asarray(predicted.conf_int(alpha=0.2)).T,
                    np.asarray(predicted.conf_int(alpha=0.05)).T,
                ]
            )
            expected = np.maximum(np.expm1(expected), 0)
            np.testing.assert_allclose(fit_predict(history, 90), expected, rtol=1e-10)


def test_dashboard_view_holds_history_and_the_forecast_band(sf1_run: Path) -> None:
    from cartwheel.analytics.forecast import dashboard_view

    engine = connect_reader(Settings(data_dir=sf1_run))
    try:
        view = dashboard_view(engine, (sf1_run,))
    finally:
        engine.close()
    assert view["note"] is None
    assert len(view["history_dates"]) == 182 and view["history_dates"][-1] == "2025-12-31"
    assert view["forecast_dates"][0] == "2026-01-01" and len(view["forecast_dates"]) == 90
    assert list(view["series"]) == CATEGORIES
    rows = [r for r in rows_of(sf1_run / "analytics" / "forecast_revenue.csv")]
    books = view["series"]["Books"]
    assert books["upper_80"] == [float(r["upper_80"]) for r in rows if r["category"] == "Books"]
    assert len(books["history"]) == 182


def test_forecast_days_zero_turns_it_off(sf1_run: Path) -> None:
    engine = connect_reader(Settings(data_dir=sf1_run))
    try:
        table, backtest = revenue_forecast(engine, 0)
    finally:
        engine.close()
    assert table is None and backtest == {
        "status": "off",
        "message": "forecast_days is 0: no forecast",
    }
