"""Synthetic shop data: the four raw entities of the contract, vectorised with numpy."""

from cartwheel.generate.core import GenerationResult, generate

__all__ = ["GenerationResult", "generate"]
