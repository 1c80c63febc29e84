"""Synthetic shop data: the four raw entities of the contract, vectorised with numpy."""

from cartwheel.generate.core import GenerationResult, generate, generate_batches
from cartwheel.generate.profile import Profile

__all__ = ["GenerationResult", "Profile", "generate", "generate_batches"]
