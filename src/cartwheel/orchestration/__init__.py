"""Orchestration: the steps of a run, in dependency order, with their reports.

The pipeline (and duckdb, pyarrow, numpy behind it) is imported on first use of one of
these names, so `cartwheel.orchestration.lock` and the other light modules stay light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cartwheel.orchestration.pipeline import STEPS, Pipeline, PipelineError, StepResult

__all__ = ["STEPS", "Pipeline", "PipelineError", "StepResult"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from cartwheel.orchestration import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
