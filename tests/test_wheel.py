"""The built wheel is the product: it installs into a fresh environment and runs from an
empty folder, with its SQL models, dashboard assets and presets coming from the package."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_import import write_shopify_export
from tests.test_version import project_version

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "cartwheel"
VERSION = project_version()


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        """`cartwheel ARGS` of the installed wheel, with nothing of the checkout around."""
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("CARTWHEEL_") and name not in ("PYTHONPATH", "VIRTUAL_ENV")
        }
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run(
            [str(self.venv / "bin" / "cartwheel"), *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )


def source_copy(target: Path) -> None:
    """What a source distribution holds: no build leftovers, no editable-install metadata."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, target / name)
    shutil.copytree(
        ROOT / "src",
        target / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the wheel from a copy of the sources and install it into a new venv.

    The venv's own site-packages comes first; the test environment's site-packages follows
    as a plain path (its .pth files, the editable install among them, are not processed),
    so the dependencies need no download and `cartwheel` can only come from the wheel.
    """
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    source_copy(source)
    dist = work / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
        + ["--wheel-dir", str(dist), str(source)],
        check=True,
        timeout=300,
    )
    (wheel,) = dist.glob("cartwheel-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
        + ["--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=300,
    )
    own = subprocess.run(
        [str(python), "-c", "import site; print(site.getsitepackages()[0])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(own) / "test-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return Installed(wheel, venv)


def test_the_wheel_carries_every_file_of_the_package(installed: Installed) -> None:
    in_source = {
        path.relative_to(PACKAGE.parent).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    in_wheel = set(zipfile.ZipFile(installed.wheel).namelist())
    assert installed.wheel.name == f"cartwheel-{VERSION}-py3-none-any.whl"
    assert sorted(in_source - in_wheel) == [], "add these to [tool.setuptools.package-data]"
    assert "cartwheel/importing/presets/shopify.yaml" in in_wheel
    assert "cartwheel/dashboard/static/chart.umd.min.js" in in_wheel


def test_cartwheel_comes_from_the_wheel(installed: Installed, tmp_path: Path) -> None:
    version = installed.run("--version", cwd=tmp_path)
    assert (version.returncode, version.stdout) == (0, f"cartwheel {VERSION}\n")
    where = subprocess.run(
        [
            str(installed.venv / "bin" / "python"),
            "-c",
            "import cartwheel; print(cartwheel.__file__)",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed.venv), where


def test_run_from_an_empty_folder(installed: Installed, tmp_path: Path) -> None:
    result = installed.run("run", "--scale", "0.2", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    data = tmp_path / "data"
    report = json.loads((data / "pipeline_execution_report.json").read_text())
    assert report["status"] == "success"
    assert report["cartwheel_version"] == VERSION
    assert all(step["status"] == "success" for step in report["steps_executed"].values())
    counts = json.loads((data / "generation_metadata.json").read_text())["record_counts"]
    assert (counts["customers"], counts["transactions"]) == (200, 2000)
    assert len(list((data / "analytics").glob("query*.csv"))) == 10
    dashboard = (data / "dashboard.html").read_text()
    assert "Chart.js" in dashboard and "Executive Summary" in dashboard
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_import_preset_from_the_wheel(installed: Installed, tmp_path: Path) -> None:
    export = write_shopify_export(tmp_path / "orders_export.csv")
    result = installed.run(
        "import", str(export), "--preset", "shopify", "--out", "raw", cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in (tmp_path / "raw").glob("*.csv")) == [
        "conflicts.csv",
        "customers.csv",
        "ids.csv",
        "products.csv",
        "transaction_items.csv",
        "transactions.csv",
    ]
