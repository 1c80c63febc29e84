"""The dashboard in a real browser: headless Chromium loads dashboard.html from disk, every
page draws its charts without console errors, filters change the KPIs to the warehouse's
numbers, hostile names stay text. Screenshots of every page go to the test's tmp folder
(and to $CARTWHEEL_SCREENSHOT_DIR when set: `make screenshots` refreshes docs/screenshots)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from tests.browser import Browser, BrowserUnavailable, ensure_chromium

pytestmark = pytest.mark.browser

PAGES = ("executive", "products", "customers", "geography", "quality", "pipeline")
# Visuals that must show data on a fresh SF1 run (the others may say "no data yet").
SALES_PAGES = PAGES[:4]


def _unavailable(reason: str) -> None:
    """With CI=true a missing browser fails the run in one line; elsewhere the tests skip."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests need chromium: {reason}", pytrace=False)
    pytest.skip(f"browser tests need chromium: {reason}")


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium; on CI (as root) upgraded to the newest candidate, as a new machine
    would get it."""
    try:
        return ensure_chromium(upgrade=os.environ.get("CI", "").lower() == "true")
    except (BrowserUnavailable, OSError, subprocess.SubprocessError) as error:
        _unavailable(str(error))


@pytest.fixture()
def browser(chromium: str):
    try:
        started = Browser(chromium)
    except BrowserUnavailable as error:
        _unavailable(str(error))
    with started as b:
        yield b


def screenshot_dirs(tmp_path: Path) -> list[Path]:
    dirs = [tmp_path / "screenshots"]
    if os.environ.get("CARTWHEEL_SCREENSHOT_DIR"):
        dirs.append(Path(os.environ["CARTWHEEL_SCREENSHOT_DIR"]))
    return dirs


def open_dashboard(browser: Browser, html: Path, fragment: str = "") -> None:
    browser.open(html.as_uri() + fragment)
    browser.wait_for("window.cartwheel && window.cartwheel.ready === true")


def show(browser: Browser, page: str) -> None:
    browser.evaluate(f"document.getElementById('tab-{page}').click()")
    browser.wait_for(f"document.getElementById('page-{page}').classList.contains('active')")


def set_filter(browser: Browser, select_id: str, label: str) -> None:
    """Choose an option by its visible text and fire `change`, as a person would."""
    found = browser.evaluate(
        f"""(() => {{
            const s = document.getElementById({json.dumps(select_id)});
            const o = [...s.options].find((o) => o.textContent === {json.dumps(label)});
            if (!o) return false;
            s.value = o.value;
            s.dispatchEvent(new Event('change', {{bubbles: true}}));
            return true;
        }})()"""
    )
    assert found, f"{select_id} has no option {label!r}"


def kpis(browser: Browser) -> dict[str, float]:
    """The KPI cards' values (data-value) and that their visible text is not a dash."""
    return browser.evaluate(
        """Object.fromEntries(['revenue', 'orders', 'aov', 'margin'].map((k) => {
            const card = document.getElementById('kpi-' + k);
            if (!card.querySelector('.value').textContent.match(/[0-9]/)) return [k, null];
            return [k, Number(card.dataset.value)];
        }))"""
    )


def warehouse_kpis(db: Path, where: str = "true", params: list | None = None) -> dict:
    """The same four figures straight from the warehouse, for the same filter."""
    con = duckdb.connect(str(db), read_only=True)
    revenue, profit, orders = con.execute(
        f"""
        select sum(f.line_total), sum(f.profit), count(distinct f.transaction_id)
        from warehouse.fact_sales f
        join warehouse.dim_products p on f.product_key = p.product_key
        join warehouse.dim_customers c on f.customer_key = c.customer_key
        join warehouse.dim_payment_method m on f.payment_method_key = m.payment_method_key
        join warehouse.dim_date d on f.date_key = d.date_key
        where {where}""",
        params or [],
    ).fetchall()[0]
    con.close()

    def cents(x: Decimal) -> float:
        return float(x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))

    return {
        "revenue": float(revenue),
        "orders": orders,
        "aov": cents(revenue / orders),
        "margin": cents(profit / revenue * 100),
    }


def canvas_ink(browser: Browser, page: str) -> dict[str, int]:
    """Painted pixels per chart canvas of a page: a drawn chart is not blank."""
    return browser.evaluate(
        f"""Object.fromEntries([...document.querySelectorAll('#page-{page} canvas')].map((c) => {{
            const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let ink = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++;
            return [c.closest('[data-visual]').dataset.visual, ink];
        }}))"""
    )


def test_every_page_renders_without_errors(browser: Browser, sf1_run: Path, tmp_path) -> None:
    open_dashboard(browser, sf1_run / "dashboard.html")
    visuals = browser.evaluate("window.cartwheel.visuals()")
    assert len(visuals) >= 16
    assert [p for p in dict.fromkeys(v["page"] for v in visuals)] == list(PAGES)
    for page in PAGES:
        show(browser, page)
        status = browser.evaluate("window.cartwheel.status")
        for visual in (v["id"] for v in visuals if v["page"] == page):
            assert status.get(visual, {}).get("rendered"), f"{page}/{visual} did not render"
            if page in SALES_PAGES:
                assert status[visual]["points"] > 0, f"{page}/{visual} is empty"
        ink = canvas_ink(browser, page)
        if page in SALES_PAGES:
            assert ink and all(n > 500 for n in ink.values()), ink
        for folder in screenshot_dirs(tmp_path):
            browser.screenshot(folder / f"{page}.png")
    assert browser.console_errors() == []
    assert browser.dialogs() == []
    assert (tmp_path / "screenshots" / "executive.png").stat().st_size > 20_000


def test_filters_give_the_warehouse_numbers(browser: Browser, sf1_run: Path, tmp_path) -> None:
    db = sf1_run / "cartwheel.duckdb"
    open_dashboard(browser, sf1_run / "dashboard.html")
    everything = kpis(browser)
    assert everything == pytest.approx(warehouse_kpis(db), abs=0.005)

    set_filter(browser, "f-category", "Electronics")
    electronics = kpis(browser)
    assert electronics == pytest.approx(
        warehouse_kpis(db, "p.category = ?", ["Electronics"]), abs=0.005
    )
    assert electronics["revenue"] < everything["revenue"]
    assert electronics["orders"] < everything["orders"]

    # All four filters at once (the category stays Electronics).
    set_filter(browser, "f-state", "CA")
    set_filter(browser, "f-payment", "Credit Card")
    set_filter(browser, "f-from", "Mar 2025")
    set_filter(browser, "f-to", "Aug 2025")
    combined = kpis(browser)
    assert combined == pytest.approx(
        warehouse_kpis(
            db,
            "p.category = ? and c.state = ? and m.payment_method_name = ? "
            "and d.date_key between 20250301 and 20250831",
            ["Electronics", "CA", "Credit Card"],
        ),
        abs=0.005,
    )
    for folder in screenshot_dirs(tmp_path):
        browser.screenshot(folder / "filtered.png")
    # Without a category, order counts come from the transaction-level cube.
    set_filter(browser, "f-category", "All categories")
    assert kpis(browser) == pytest.approx(
        warehouse_kpis(
            db,
            "c.state = ? and m.payment_method_name = ? "
            "and d.date_key between 20250301 and 20250831",
            ["CA", "Credit Card"],
        ),
        abs=0.005,
    )
    # The other pages follow too: the state chart shows only CA.
    show(browser, "geography")
    labels = browser.evaluate("window.cartwheel.charts.state_performance.data.labels")
    assert labels == ["CA"]
    # The filter state survives a reload through the URL.
    fragment = browser.evaluate("location.hash")
    assert "state=CA" in fragment
    browser.open("about:blank")  # a fresh load, not a same-document hash change
    open_dashboard(browser, sf1_run / "dashboard.html", fragment)
    chosen = browser.evaluate("document.getElementById('f-state').selectedOptions[0].textContent")
    assert chosen == "CA"
    assert browser.console_errors() == []


def test_hostile_product_name_is_shown_as_text(
    browser: Browser, sf1_run: Path, tmp_path: Path
) -> None:
    from tests.test_dashboard import XSS_CUSTOMER, XSS_PRODUCT, rebuild

    shutil.copyfile(sf1_run / "cartwheel.duckdb", tmp_path / "cartwheel.duckdb")
    con = duckdb.connect(str(tmp_path / "cartwheel.duckdb"))
    # The best seller, so it is in the top-10 chart and the product table.
    top = con.execute(
        "select p.product_id from warehouse.fact_sales f join warehouse.dim_products p "
        "using (product_key) group by 1 order by sum(f.line_total) desc limit 1"
    ).fetchall()[0][0]
    con.execute(
        "update warehouse.dim_products set product_name = ? where product_id = ?",
        [XSS_PRODUCT, top],
    )
    con.execute("update warehouse.dim_customers set full_name = ?", [XSS_CUSTOMER])
    con.close()
    html = rebuild(tmp_path, tmp_path)

    open_dashboard(browser, html)
    show(browser, "products")
    cells = browser.evaluate(
        "[...document.querySelectorAll('#box-product_table td')].map((td) => td.textContent)"
    )
    assert XSS_PRODUCT in cells
    assert browser.evaluate("window.cartwheel.charts.top_products.data.labels[0]").startswith(
        "<img src=x"
    )
    show(browser, "customers")
    names = browser.evaluate(
        "[...document.querySelectorAll('#box-top_customers td.name')].map((td) => td.textContent)"
    )
    assert names and set(names) == {XSS_CUSTOMER}
    assert browser.evaluate("document.querySelectorAll('img').length") == 0
    assert browser.dialogs() == []
    assert browser.console_errors() == []

    # Control: the same text parsed as HTML does run (so the checks above can fail).
    browser.evaluate(f"document.body.insertAdjacentHTML('beforeend', {json.dumps(XSS_PRODUCT)})")
    browser.wait_for("document.querySelectorAll('img').length === 1")
    browser.evaluate("new Promise((r) => setTimeout(r, 300))")
    assert browser.dialogs() or browser.console_errors()
