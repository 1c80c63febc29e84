"""The generated parts of docs/contract.md and docs/architecture.md match the code."""

from __future__ import annotations

import pytest

from tests.generated_docs import BLOCKS, render


@pytest.mark.parametrize("path", list(BLOCKS), ids=lambda path: path.name)
def test_generated_blocks_match_the_code(path) -> None:  # noqa: ANN001 - a Path
    text = path.read_text()
    assert text == render(path, text), (
        f"{path.name} is out of date: run `.venv/bin/python -m tests.generated_docs`"
    )


def test_a_drifted_block_is_caught() -> None:
    path = next(iter(BLOCKS))
    text = path.read_text().replace("`customer_id`", "`customer_number`", 1)
    assert text != render(path, text)
