"""Counter-based random draws: a value is a pure function of (seed, stream, key).

An entity attribute (a customer's city in version 2, a product's base price) must be the
same whichever day is generated and whatever else is generated with it, so it cannot come
from a sequential random state. These helpers hash the key with splitmix64 instead,
vectorised over numpy arrays. Per-day draws use `day_rng` (a numpy Generator seeded from
(seed, day)), so a day never needs an earlier day's random state.
"""

from __future__ import annotations

from datetime import date

import numpy as np

_MASK = (1 << 64) - 1


def _mix_int(x: int) -> int:
    """splitmix64 finaliser on a Python int (for the per-stream key)."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, vectorised (uint64 arithmetic wraps modulo 2**64)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def uniform(seed: int, stream: int, keys: np.ndarray, version: np.ndarray | int = 0) -> np.ndarray:
    """Uniform floats in [0, 1), one per key (and version < 256)."""
    salt = np.uint64(_mix_int(_mix_int(seed & _MASK) ^ (stream * 0x632BE59BD9B4E019 & _MASK)))
    k = np.asarray(keys, dtype=np.uint64) * np.uint64(256) + np.asarray(version, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = _mix(_mix(k ^ salt) + salt)
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def choice(u: np.ndarray, weights: np.ndarray | tuple[float, ...]) -> np.ndarray:
    """Categorical codes from uniforms by inverse CDF (weights need not sum to 1)."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    return np.minimum(np.searchsorted(cdf / cdf[-1], u, side="right"), len(cdf) - 1)


def normal(u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
    """Standard normal draws from two uniforms (Box-Muller)."""
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def day_rng(seed: int, day: date, stream: int) -> np.random.Generator:
    """The random state of one day (and purpose): depends only on (seed, day, stream)."""
    return np.random.default_rng(np.random.SeedSequence([seed & _MASK, day.toordinal(), stream]))
