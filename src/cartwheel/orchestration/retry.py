"""Which failures are worth retrying, and the retry policy (tenacity) built from settings.

Transient: a lost connection, a lock that timed out, an I/O hiccup (each engine names
its driver's transient errors). Everything else — a constraint, a catalog or parser
error, our own PipelineError — stops the run at once.
"""

from __future__ import annotations

import errno
from collections.abc import Callable

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from cartwheel.engines import is_transient_driver_error
from cartwheel.errors import FatalError, TransientError

# OSErrors that go away when tried again; a missing file or a full disk does not.
TRANSIENT_ERRNOS = frozenset(
    {
        errno.EIO,
        errno.EAGAIN,
        errno.EBUSY,
        errno.EINTR,
        errno.ETIMEDOUT,
        errno.ECONNRESET,
        errno.ECONNREFUSED,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ENETUNREACH,
        errno.EHOSTUNREACH,
    }
)


def is_transient(error: BaseException) -> bool:
    """Whether a step that raised `error` should be tried again."""
    if isinstance(error, FatalError):
        return False
    if isinstance(error, TransientError):
        return True
    if is_transient_driver_error(error):  # each engine says which of its driver's errors
        return True
    if isinstance(error, OSError) and error.errno in TRANSIENT_ERRNOS:
        return True
    cause = error.__cause__
    return cause is not None and cause is not error and is_transient(cause)


def retrying(
    retries: int,
    first_wait: float,
    max_wait: float,
    before_sleep: Callable[[RetryCallState], None] | None = None,
) -> Retrying:
    """`retries` more attempts after the first, waiting first_wait, 2×, 4× … (capped)."""
    return Retrying(
        stop=stop_after_attempt(retries + 1),
        wait=wait_exponential(multiplier=first_wait, exp_base=2, min=0, max=max_wait),
        retry=retry_if_exception(is_transient),
        before_sleep=before_sleep,
        reraise=True,
    )
