"""Headless Chromium for the browser tests, the screenshots and the dashboard benchmarks.

Playwright drives the system's Debian `chromium` (`executable_path`), so no browser is ever
downloaded; Playwright talks to it over a pipe, not a DevTools websocket, and follows the
browser's protocol changes. `ensure_chromium()` gets the browser as a new machine would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--mute-audio",
)


class BrowserUnavailable(RuntimeError):
    """No chromium could be found, installed or started; the message is one line."""


def find_chromium() -> str | None:
    """Debian's `chromium` (or another Chromium/Chrome on PATH)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _apt(*args: str, timeout: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Two test workers may both need chromium: wait for the other's dpkg lock, not fail.
    return subprocess.run(
        ["apt-get", "-o", "DPkg::Lock::Timeout=600", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ensure_chromium(upgrade: bool) -> str:
    """The path of chromium; as root, installed (or with `upgrade`, brought to the newest
    candidate) with apt, refreshing the package lists first when they are needed."""
    found = find_chromium()
    can_install = os.geteuid() == 0 and shutil.which("apt-get") is not None
    if can_install and (upgrade or found is None):
        install = ("install", "-y", "-q", "chromium")
        if upgrade or _apt(*install, timeout=900).returncode != 0:
            _apt("update", "-q", timeout=600)
            done = _apt(*install, timeout=900)
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                raise BrowserUnavailable(f"apt-get install chromium failed: {last}")
        found = find_chromium()
    if found is None:
        raise BrowserUnavailable("chromium is not installed (as root: apt-get install -y chromium)")
    return found


class Browser:
    """One headless Chromium with one page; console errors and dialogs are recorded."""

    def __init__(self, executable: str | None = None, width: int = 1440, height: int = 1000):
        from playwright.sync_api import Error, sync_playwright

        executable = executable or find_chromium()
        if executable is None:
            raise BrowserUnavailable("chromium not found (apt-get install -y chromium)")
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=executable, headless=True, args=list(CHROMIUM_ARGS)
            )
        except Error as error:
            self._playwright.stop()
            first = str(error).strip().splitlines()[0]
            raise BrowserUnavailable(f"chromium at {executable} did not start: {first}") from None
        self.page = self._browser.new_page(viewport={"width": width, "height": height})
        self._errors: list[str] = []
        self._dialogs: list[str] = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self._errors.append(str(error)))
        self.page.on("dialog", self._on_dialog)
        self.page.on("requestfailed", self._on_request_failed)

    def _on_console(self, message: Any) -> None:
        if message.type in ("error", "assert"):
            self._errors.append(message.text)

    def _on_request_failed(self, request: Any) -> None:
        self._errors.append(f"failed to load {request.url}: {request.failure}")

    def _on_dialog(self, dialog: Any) -> None:
        """Keep the message and dismiss the dialog, so the page cannot block."""
        self._dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, url: str, timeout: float = 30.0) -> None:
        """Navigate and wait for the load event."""
        self.page.goto(url, wait_until="load", timeout=timeout * 1000)

    def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page (awaiting promises) and return its value."""
        return self.page.evaluate(expression)

    def wait_for(self, expression: str, timeout: float = 20.0) -> Any:
        """Poll until a JavaScript expression is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.05)
        raise TimeoutError(f"timed out waiting for {expression}")

    def screenshot(self, path: Path, full_page: bool = True) -> Path:
        """Save a PNG of the page (the whole scroll height by default)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def console_errors(self) -> list[str]:
        """Console errors, uncaught exceptions and failed loads seen so far."""
        return list(self._errors)

    def dialogs(self) -> list[str]:
        """Messages of JavaScript dialogs (alert/confirm) the page opened."""
        return list(self._dialogs)

    def close(self) -> None:
        try:
            self._browser.close()
        finally:
            self._playwright.stop()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
