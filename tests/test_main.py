"""The `cartwheel` entry point: what it imports before the command runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pandas")  # what is saved exists only where pandas is installed


def python(code: str) -> str:
    """Run `code` in a fresh interpreter (nothing imported yet) and return what it prints."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip()


def test_pyarrow_alone_imports_pandas_on_its_first_conversion() -> None:
    # The cost the entry point avoids: without it, the first pa.array imports pandas.
    printed = python("import sys, pyarrow; pyarrow.array([1]); print('pandas' in sys.modules)")
    assert printed == "True"


def test_after_the_entry_points_check_pyarrow_converts_without_pandas() -> None:
    printed = python(
        "import sys, pyarrow\n"
        "from cartwheel.__main__ import arrow_without_pandas\n"
        "arrow_without_pandas()\n"
        "table = pyarrow.table({'customer_id': ['CUST0001', 'CUST0002'], 'age': [31, 45]})\n"
        "print('pandas' in sys.modules, table.num_rows)\n"
        "frame = table.to_pandas()\n"  # an explicit conversion still has pandas
        "print(type(frame).__name__, list(frame['customer_id']))"
    )
    assert printed.splitlines() == ["False 2", "DataFrame ['CUST0001', 'CUST0002']"]


def test_generating_imports_no_pandas(tmp_path: Path) -> None:
    printed = python(
        "import sys\n"
        f"sys.argv = ['cartwheel', 'generate', '--scale', '0.01', '--out', {str(tmp_path)!r}]\n"
        "from cartwheel.__main__ import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as done:\n"
        "    print(done.code, 'pandas' in sys.modules)",
    )
    assert printed.splitlines()[-1] == "0 False"
    assert (tmp_path / "transaction_items.csv").stat().st_size > 0


def test_pyarrow_imported_after_the_command_started_converts_without_pandas() -> None:
    # `--version` imports no pyarrow; the check then runs when pyarrow is first imported.
    printed = python(
        "import sys\n"
        "sys.argv = ['cartwheel', '--version']\n"
        "from cartwheel.__main__ import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as done:\n"
        "    print(done.code, 'pyarrow' in sys.modules)\n"
        "import pyarrow\n"
        "table = pyarrow.table({'product_id': ['PROD0007'], 'unit_price': [12.5]})\n"
        "print('pandas' in sys.modules, table.num_rows)\n"
        "print(type(table.to_pandas()).__name__)"
    )
    assert printed.splitlines()[-3:] == ["0 False", "False 1", "DataFrame"]
