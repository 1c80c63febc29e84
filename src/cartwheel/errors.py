"""cartwheel's own error types: what engines raise instead of their drivers' exceptions
where the orchestrator must tell a retry from a stop, and what ingest reports."""

from __future__ import annotations


class TransientError(Exception):
    """A failure that may pass if tried again (raised by engines, and by tests)."""


class FatalError(Exception):
    """A failure that no retry can fix."""


class SourceError(Exception):
    """A raw file cannot be read at all; the one-line message names the file and why."""
