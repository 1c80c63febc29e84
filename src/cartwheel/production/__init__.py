"""Production (3NF): cleansed, constrained tables merged from the validated staging rows."""

from cartwheel.production.merge import load_production

__all__ = ["load_production"]
