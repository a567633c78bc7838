"""BCa bootstrap confidence intervals of a mean, with the resample indices saved.

``scipy.stats.bootstrap(method='BCa')`` draws its resamples, for one sample and one batch, as
``rng.integers(0, n, (n_resamples, n))`` from the Generator it is given. We draw the same indices
from an identically seeded Generator, hand scipy a fresh copy, and verify on every call that the
(nan-)mean over our indices equals scipy's ``bootstrap_distribution`` exactly, so the saved indices
reproduce each table row (a RuntimeError is raised if a future scipy draws differently).

Degenerate groups (empty, n = 1, all values equal, or no defined value) get NaN bounds and a
stated ``reason`` instead of an exception. NaN values (an undefined Spearman) are ignored by the
statistic (``nanmean``) but keep their place, so every metric of a row shares one index set.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass
class Interval:
    """Mean and BCa interval of one metric over one group of cases."""

    mean: float
    low: float
    high: float
    n: int
    n_defined: int
    reason: str
    indices: np.ndarray | None = None
    distribution: np.ndarray | None = None


def nanmean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Mean ignoring NaN (vectorised statistic for scipy; an all-NaN slice gives NaN silently)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(x, axis=axis)


def row_seed(seed: int, key: str) -> list[int]:
    """Stable per-row seed: the run seed and a CRC32 of the row's configuration + stratum key.

    The same (configuration, stratum) gets the same resamples in every table.
    """
    return [int(seed), zlib.crc32(key.encode())]


def resample_indices(n: int, n_resamples: int, rng_seed: Sequence[int]) -> np.ndarray:
    """The ``(n_resamples, n)`` indices scipy draws from ``default_rng(rng_seed)``."""
    return np.random.default_rng(list(rng_seed)).integers(0, n, (n_resamples, n))


def degenerate_reason(x: np.ndarray) -> str:
    """Why a BCa interval cannot be computed for ``x`` ('' if it can)."""
    defined = x[~np.isnan(x)]
    if len(x) == 0:
        return "empty group"
    if len(defined) == 0:
        return "no defined value"
    if len(x) == 1:
        return "n=1"
    if np.ptp(defined) == 0:
        return "all values equal"
    return ""


def bca_mean(
    values: Sequence[float] | np.ndarray,
    n_resamples: int,
    confidence: float,
    rng_seed: Sequence[int],
) -> Interval:
    """Mean of ``values`` with its BCa ``confidence`` interval (scipy.stats.bootstrap)."""
    x = np.asarray(values, dtype=np.float64)
    n, n_defined = len(x), int(np.count_nonzero(~np.isnan(x)))
    mean = float(nanmean(x)) if n_defined else float("nan")
    reason = degenerate_reason(x)
    if reason:
        return Interval(mean, float("nan"), float("nan"), n, n_defined, reason)
    indices = resample_indices(n, n_resamples, rng_seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        res = stats.bootstrap(
            (x,),
            nanmean,
            n_resamples=n_resamples,
            confidence_level=confidence,
            method="BCa",
            vectorized=True,
            rng=np.random.default_rng(list(rng_seed)),
        )
    if not np.array_equal(nanmean(x[indices]), res.bootstrap_distribution, equal_nan=True):
        raise RuntimeError(
            "scipy.stats.bootstrap no longer draws rng.integers(0, n, (B, n)); "
            "saved resample indices would not reproduce the interval"
        )
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if np.isnan(low) or np.isnan(high):
        reason = "BCa undefined (degenerate bootstrap distribution)"
    return Interval(mean, low, high, n, n_defined, reason, indices, res.bootstrap_distribution)
