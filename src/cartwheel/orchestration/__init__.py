"""Orchestration: the steps of a run, in dependency order, with their reports."""

from cartwheel.orchestration.pipeline import STEPS, Pipeline, PipelineError, StepResult

__all__ = ["STEPS", "Pipeline", "PipelineError", "StepResult"]
