"""The `cartwheel` command (and `python -m cartwheel`): the CLI, its modules imported with
the garbage collector paused."""

from __future__ import annotations

import gc
import importlib.util
import os
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType


def arrow_without_pandas() -> None:
    """Let pyarrow know that no pandas object will come its way.

    pyarrow's first conversion (`pa.array`, `pa.table`) imports pandas, when it is installed,
    only to ask whether its input is a pandas object: 0.23 s of CPU, a tenth of a
    scale-factor-1 run. The command never hands pyarrow a pandas object, so pyarrow makes
    that first check while `import pandas` is refused, and answers "no pandas" from then on.
    An explicit conversion (`to_pandas()`) still imports pandas: pyarrow retries it.
    """
    if "pandas" in sys.modules:  # imported already: nothing to save
        return
    import pyarrow

    sys.meta_path.insert(0, _RefusePandas)
    try:
        pyarrow.array([0])
    finally:
        sys.meta_path.remove(_RefusePandas)


class _ArrowWithoutPandasOnImport:
    """An import finder that runs `arrow_without_pandas` as soon as pyarrow is imported.

    A command that never uses pyarrow (`--help`, `--version`, `status`) never imports it.
    """

    @classmethod
    def find_spec(cls, name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        if name != "pyarrow":
            return None
        sys.meta_path.remove(cls)  # once: pyarrow's own import goes the usual way
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            load(module)
            arrow_without_pandas()

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


class _RefusePandas:
    """An import finder that says pandas is not installed."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> None:
        if name == "pandas":
            raise ModuleNotFoundError("pandas is not imported by the command", name=name)


def main() -> None:
    """Import the CLI without collecting, then run it.

    Importing allocates several hundred thousand objects that live as long as the process;
    the collector would scan them again and again while they load (0.12 s of CPU of a
    scale-factor-1 run, 5%). `gc.freeze` then keeps them out of every later collection.
    """
    # numpy's OpenBLAS starts a thread per core on import, and they spin (0.12 CPU s of
    # every run); cartwheel's only BLAS work, the forecast's tiny fits, uses one thread.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if "pyarrow" in sys.modules:
        arrow_without_pandas()
    else:
        sys.meta_path.insert(0, _ArrowWithoutPandasOnImport)
    gc.disable()
    try:
        from cartwheel.cli import main as cli_main
    finally:
        gc.freeze()
        gc.enable()
    cli_main()


if __name__ == "__main__":
    main()
