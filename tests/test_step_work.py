"""`cartwheel run` imports the runner, every step's work and its engine in one go with the
garbage collector paused (orchestration.steps.load_step_work); STEP_WORK must name exactly
what the step modules import inside `run`, or a step would load its work later, collecting
as it goes."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from cartwheel.orchestration import steps
from cartwheel.orchestration.steps import STEP_WORK

STEP_MODULES = Path(steps.__file__).parent


def imported_inside_run(source: str) -> set[str]:
    """The modules a step module's `run` function imports."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == "run":
            return {
                inner.module
                for inner in ast.walk(node)
                if isinstance(inner, ast.ImportFrom) and inner.module
            }
    return set()


def test_step_work_names_exactly_what_the_steps_import_inside_run() -> None:
    imported = set()
    for path in sorted(STEP_MODULES.glob("*.py")):
        imported |= imported_inside_run(path.read_text())
    assert imported == set(STEP_WORK)
    assert len(STEP_WORK) == 11


def test_an_import_missing_from_step_work_is_found() -> None:
    source = (
        (STEP_MODULES / "dashboard.py")
        .read_text()
        .replace(
            "    from cartwheel.dashboard import build_dashboard\n",
            "    from cartwheel.dashboard import build_dashboard\n"
            "    from cartwheel.dashboard.charts import figures\n",
        )
    )
    assert imported_inside_run(source) - set(STEP_WORK) == {"cartwheel.dashboard.charts"}


def test_step_work_loads_without_a_collection_and_stays_out_of_later_ones() -> None:
    probe = (
        "import gc, sys\n"
        "from cartwheel.config import Settings\n"
        "from cartwheel.orchestration.steps import RUNNER, STEP_WORK, load_step_work\n"
        "collections = []\n"
        "gc.callbacks.append(lambda phase, info: collections.append(phase))\n"
        "load_step_work(Settings())  # engine: duckdb\n"
        "print(len(collections), gc.isenabled(), gc.get_freeze_count() > 10000,\n"
        "      [m for m in (RUNNER, *STEP_WORK, 'cartwheel.engines.duckdb', 'duckdb')\n"
        "       if m not in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["0", "True", "True", "[]"]


def test_a_run_over_input_files_leaves_the_generator_unimported() -> None:
    """The generate step is skipped for --input, so its work (numpy's random draws, the
    defect injection) is not loaded; without --input it is."""
    probe = (
        "import sys\n"
        "from cartwheel.config import Settings\n"
        "from cartwheel.orchestration.steps import STEP_WORK, load_step_work\n"
        "load_step_work(Settings(input_dir=sys.argv[1] or None))\n"
        "print(sorted(m for m in STEP_WORK if m not in sys.modules))\n"
    )
    for input_dir, missing in (("raw", "['cartwheel.generate']"), ("", "[]")):
        out = subprocess.run(
            [sys.executable, "-c", probe, input_dir], capture_output=True, text=True, check=True
        ).stdout
        assert out.strip() == missing
