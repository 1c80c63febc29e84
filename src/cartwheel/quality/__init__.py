"""Quality: row-level validation (staging models) and the quality checks."""

from cartwheel.quality.validate import validate

__all__ = ["validate"]
