"""Revenue forecast: the next days of revenue, in total (`All`) and per category, with 80%
and 95% prediction intervals, and a backtest against seasonal-naive on held-out days.

The model is an autoregression with one lag on log(1 + daily revenue) plus deterministic
terms: a constant, a linear trend, weekday dummies and, with a year of history or more,
three yearly Fourier pairs (the November-December peak) -- the specification of
statsmodels' `AutoReg(lags=1, trend="n", deterministic=...)`, written in numpy (the
statsmodels stack took a second to import on every run; tests/test_forecast.py checks
the two agree where statsmodels is installed). It is fitted by least squares, so a
series of a few years fits in milliseconds. The daily series come from one SQL group-by
(sql/daily_revenue.sql).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from cartwheel.engines import Engine
from cartwheel.sqlfiles import sql_text

FORECAST_FILE = "forecast_revenue.csv"
TOTAL = "All"
MIN_HISTORY_DAYS = 56  # eight weeks: less than that gives no forecast rather than a bad one
HOLDOUT_DAYS = 60
YEARLY_MIN_DAYS = 365  # yearly terms only once a whole year has been seen
FOURIER_ORDER = 3
WEEK = 7
YEAR_DAYS = 365.25
Z_80, Z_95 = (NormalDist().inv_cdf(1 - alpha / 2) for alpha in (0.2, 0.05))

log = logging.getLogger("cartwheel.forecast")


@dataclass(frozen=True)
class DailySeries:
    """Revenue per day (rows, from `first_day`, 0 on days without sales) and category."""

    first_day: np.datetime64
    categories: list[str | None]
    revenue: np.ndarray

    @property
    def days(self) -> int:
        return self.revenue.shape[0]

    def named(self) -> list[tuple[str | None, np.ndarray]]:
        """The total first (`All`), then each category."""
        return [(TOTAL, self.revenue.sum(axis=1))] + [
            (name, self.revenue[:, i]) for i, name in enumerate(self.categories)
        ]


def daily_revenue(engine: Engine) -> DailySeries | None:
    """The daily series from one group-by; None when there are no sales."""
    sql = sql_text("analytics/sql/daily_revenue.sql")
    table = engine.query_arrow(sql)
    if table.num_rows == 0:
        return None
    days = table["full_date"].cast(pa.date32()).to_numpy().astype("datetime64[D]")
    encoded = table["category"].combine_chunks().dictionary_encode(null_encoding="encode")
    names = encoded.dictionary.to_pylist()
    order = sorted(range(len(names)), key=lambda i: (names[i] is None, names[i] or ""))
    position = np.empty(len(names), dtype=np.int64)
    position[order] = np.arange(len(names))
    first = days.min()
    revenue = np.zeros(((days.max() - first).astype(int) + 1, len(names)))
    np.add.at(
        revenue,
        ((days - first).astype(int), position[encoded.indices.to_numpy()]),
        table["revenue"].cast(pa.float64()).to_numpy(zero_copy_only=False),
    )
    return DailySeries(first, [names[i] for i in order], revenue)


def smape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Symmetric mean absolute percentage error in percent (a day 0 on both sides adds 0)."""
    scale = np.abs(actual) + np.abs(predicted)
    terms = np.divide(
        2 * np.abs(predicted - actual), scale, out=np.zeros_like(scale), where=scale > 0
    )
    return float(100 * terms.mean())


def seasonal_naive(history: np.ndarray, horizon: int) -> np.ndarray:
    """The last observed week, repeated."""
    return np.resize(history[-WEEK:], horizon)


def model_name(history_days: int) -> str:
    yearly = f" + yearly Fourier({FOURIER_ORDER})" if history_days >= YEARLY_MIN_DAYS else ""
    return f"AutoReg(1) on log1p(revenue), trend + weekday{yearly}"


def deterministic_terms(first: int, count: int, yearly: bool) -> np.ndarray:
    """Rows `first` .. `first + count - 1` of the regressors besides the lag: a constant,
    a trend counting days from 1, weekday dummies (all but the first day's) and, when
    `yearly`, sine/cosine pairs of the first FOURIER_ORDER yearly harmonics."""
    day = np.arange(first, first + count, dtype=np.float64)
    weekday = np.arange(first, first + count) % WEEK
    columns = [np.ones(count), day + 1]
    columns += [(weekday == k).astype(np.float64) for k in range(1, WEEK)]
    if yearly:
        angle = 2 * np.pi * day / YEAR_DAYS
        for order in range(1, FOURIER_ORDER + 1):
            columns += [np.sin(order * angle), np.cos(order * angle)]
    return np.column_stack(columns)


def fit_predict(history: np.ndarray, horizon: int) -> np.ndarray:
    """Rows forecast, lower_80, upper_80, lower_95, upper_95 for the next `horizon` days.

    Least squares of y[t] on the deterministic terms and y[t-1] (y = log1p(revenue));
    the forecast runs the recursion on from the last day, its variance is the residual
    variance times 1 + phi^2 + ... + phi^(2(h-1)) at h days ahead (normal bands)."""
    days = len(history)
    yearly = days >= YEARLY_MIN_DAYS
    y = np.log1p(np.maximum(history, 0))
    regressors = np.column_stack([deterministic_terms(1, days - 1, yearly), y[:-1]])
    coefficients = np.linalg.pinv(regressors) @ y[1:]
    residuals = y[1:] - regressors @ coefficients
    sigma2 = residuals @ residuals / (days - 1)
    *beta, phi = coefficients
    level = deterministic_terms(days, horizon, yearly) @ np.asarray(beta)
    # The recursion mean[h] = level[h] + phi * mean[h-1], from mean[-1] = y[-1], unrolled:
    # mean[h] = sum over j <= h of phi^(h-j) * level[j], plus phi^(h+1) * y[-1].
    ahead = np.arange(horizon)
    lags = ahead[:, None] - ahead[None, :]
    weights = np.where(lags >= 0, phi ** np.maximum(lags, 0), 0.0)
    mean = weights @ level + phi ** (ahead + 1) * y[-1]
    spread = np.sqrt(sigma2 * np.cumsum(phi ** (2 * np.arange(horizon))))
    rows = [mean]
    for z in (Z_80, Z_95):
        rows += [mean - z * spread, mean + z * spread]
    return np.maximum(np.expm1(np.vstack(rows)), 0)


def revenue_forecast(engine: Engine, horizon: int) -> tuple[pa.Table | None, dict[str, Any]]:
    """The forecast table (None when none is made) and the summary's `forecast_backtest`."""
    if horizon == 0:
        return None, {"status": "off", "message": "forecast_days is 0: no forecast"}
    series = daily_revenue(engine)
    history_days = 0 if series is None else series.days
    backtest: dict[str, Any] = {
        "model": model_name(history_days),
        "smape": None,
        "seasonal_naive_smape": None,
        "holdout_days": HOLDOUT_DAYS,
        "history_days": history_days,
        "horizon_days": horizon,
    }
    if series is None or history_days < MIN_HISTORY_DAYS:
        message = (
            f"forecast: only {history_days} days of sales history, at least "
            f"{MIN_HISTORY_DAYS} (8 weeks) needed; no forecast written"
        )
        log.warning(message)
        return None, backtest | {"status": "insufficient_history", "message": message}
    from threadpoolctl import threadpool_limits

    # The least-squares problems are tiny: a second BLAS thread only waits for a core
    # (measured at scale factor 1 on two busy cores: 1.5 s with two threads, 0.24 s with one).
    with threadpool_limits(1, user_api="blas"):
        return _forecast(series, horizon, backtest)


def _forecast(
    series: DailySeries, horizon: int, backtest: dict[str, Any]
) -> tuple[pa.Table, dict[str, Any]]:
    history_days = series.days
    began = time.perf_counter()
    total = series.named()[0][1]
    if history_days >= MIN_HISTORY_DAYS + HOLDOUT_DAYS:
        train, actual = total[:-HOLDOUT_DAYS], total[-HOLDOUT_DAYS:]
        backtest["smape"] = round(smape(actual, fit_predict(train, HOLDOUT_DAYS)[0]), 2)
        naive = seasonal_naive(train, HOLDOUT_DAYS)
        backtest["seasonal_naive_smape"] = round(smape(actual, naive), 2)
        backtest["backtest_model"] = model_name(len(train))
    named = series.named()
    bands = np.hstack([fit_predict(values, horizon) for _, values in named])
    last_day = series.first_day + history_days - 1
    dates = last_day + np.tile(np.arange(1, horizon + 1), len(named))
    table = pa.table(
        {
            "date": pa.array(dates.astype("datetime64[D]"), pa.date32()),
            "category": pa.array(np.repeat([name for name, _ in named], horizon), pa.string()),
            "forecast": bands[0],
            "lower_80": bands[1],
            "upper_80": bands[2],
            "lower_95": bands[3],
            "upper_95": bands[4],
        }
    )
    backtest |= {
        "status": "ok",
        "series": len(named),
        "fit_seconds": round(time.perf_counter() - began, 3),
    }
    return table, backtest


HISTORY_SHOWN_DAYS = 182  # the dashboard shows the last half-year before the forecast


def dashboard_view(engine: Engine, folders: tuple[Path, ...]) -> dict[str, Any]:
    """Per series (`All` and each category): the last half-year of daily revenue, and the
    forecast with its 80% band from the first of `folders`/analytics that has one."""
    series = daily_revenue(engine)
    if series is None:
        return {"series": {}, "note": "no sales yet"}
    shown = min(HISTORY_SHOWN_DAYS, series.days)
    start = series.first_day + series.days - shown
    view: dict[str, Any] = {
        "history_dates": [str(day) for day in start + np.arange(shown)],
        "forecast_dates": [],
        "series": {
            name or "": {"history": np.round(values[-shown:], 2).tolist()}
            for name, values in series.named()
        },
        "note": None,
    }
    analytics = [folder / "analytics" for folder in folders]
    path = next((f / FORECAST_FILE for f in analytics if (f / FORECAST_FILE).exists()), None)
    if path is None:
        view["note"] = (
            next(
                (
                    summary["forecast_backtest"].get("message")
                    for summary in map(_summary, analytics)
                    if summary.get("forecast_backtest")
                ),
                None,
            )
            or "no forecast yet: the analytics step writes it"
        )
        return view
    table = pa_csv.read_csv(
        path, convert_options=pa_csv.ConvertOptions(column_types={"category": pa.string()})
    )
    categories = table["category"].fill_null("").to_numpy(zero_copy_only=False)
    view["forecast_dates"] = [str(day) for day in np.unique(table["date"].to_numpy())]
    for name in dict.fromkeys(categories.tolist()):
        rows = categories == name
        entry = view["series"].setdefault(name, {"history": []})
        for column in ("forecast", "lower_80", "upper_80"):
            entry[column] = np.round(table[column].to_numpy()[rows], 2).tolist()
    return view


def _summary(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / "analytics_summary.json").read_text())
    except (OSError, ValueError):
        return {}
