"""Vectorised signal helpers for the weight tracker: PURE numpy, grams and sample indices.

All functions work on one buffer ``raw`` (the tracker's tail followed by the new batch) and its
prefix sums ``csum`` (``csum[k] = raw[:k].sum()``, length ``len(raw) + 1``), so that any moving
mean costs two lookups. ``smoothed[j]`` is the mean of the ``m`` raw samples ending at ``j``; it is
NaN where fewer than ``m`` samples exist.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "chi2_ratio_quantile",
    "first_outside",
    "first_stable_window",
    "moving_mean",
    "prefix_sums",
    "robust_noise_var",
    "smoothed",
    "window_variance",
]

FloatArray = np.ndarray
_CHUNK = 512  # samples examined at a time by the searches


def prefix_sums(raw: FloatArray) -> FloatArray:
    csum = np.empty(raw.size + 1)
    csum[0] = 0.0
    np.cumsum(raw, out=csum[1:])
    return csum


def smoothed(csum: FloatArray, m: int) -> FloatArray:
    """Moving mean of ``m`` samples ending at each index (NaN before the first full window)."""
    n = csum.size - 1
    out = np.full(n, np.nan)
    if n >= m:
        out[m - 1 :] = (csum[m:] - csum[:-m]) / m
    return out


def moving_mean(csum: FloatArray, end: int, width: int) -> float:
    """Mean of raw[end - width : end] (width clipped to what the buffer holds)."""
    width = min(width, end)
    return float((csum[end] - csum[end - width]) / width)


def first_outside(sm: FloatArray, start: int, centre: float, half_band: float) -> int:
    """First index >= start where the smoothed signal leaves centre +- half_band, else len(sm)."""
    for lo in range(start, sm.size, _CHUNK):
        outside = np.abs(sm[lo : lo + _CHUNK] - centre) > half_band
        k = int(outside.argmax())
        if outside[k]:
            return lo + k
    return sm.size


def first_stable_window(
    sm: FloatArray, raw: FloatArray, start: int, hold: int, band: float, var_max: float
) -> int:
    """First index j >= start whose window of ``hold`` samples ending at j is still.

    Still: the smoothed window sm[j - hold + 1 : j + 1] is complete and spans <= band, and the
    raw samples of the same window have a variance <= var_max (a hand resting on the shelf with
    a slight tremor can fit in the band at low rates; its variance gives it away).
    Returns -1 when no such window ends inside the buffer. Searched in chunks, so a long buffer
    costs only up to the first still window.
    """
    for first_end in range(start, sm.size, _CHUNK):
        lo = max(first_end - hold + 1, 0)
        hi = min(first_end + _CHUNK, sm.size)
        if hi - lo < hold:
            continue
        windows = sliding_window_view(sm[lo:hi], hold)
        span = windows.max(axis=1) - windows.min(axis=1)  # NaN (incomplete) compares False
        ok = span <= band
        if ok.any():
            ok &= window_variance(raw[lo:hi], hold) <= var_max
        k = int(ok.argmax())
        if ok[k]:
            return lo + k + hold - 1
    return -1


def window_variance(raw: FloatArray, hold: int) -> FloatArray:
    """Population variance of every window of ``hold`` raw samples (pivoted for precision)."""
    x = raw - raw[0]
    c1 = prefix_sums(x)
    c2 = prefix_sums(x * x)
    s1 = c1[hold:] - c1[:-hold]
    s2 = c2[hold:] - c2[:-hold]
    out: FloatArray = np.maximum(s2 / hold - (s1 / hold) ** 2, 0.0)
    return out


def chi2_ratio_quantile(dof: float, z: float) -> float:
    """Quantile of chi2(dof) / dof at z standard normal deviates (Wilson-Hilferty; z < 0: a
    lower quantile, which is <= 0 when dof is too small for the approximation)."""
    a = 2.0 / (9.0 * dof)
    return float((1.0 - a + z * np.sqrt(a)) ** 3)


def robust_noise_var(raw: FloatArray) -> float | None:
    """White-noise variance (g^2) from the median absolute first difference; None if too short.

    Steps and short transients barely move a median; a hand's tremor does (upwards).
    """
    if raw.size < 9:
        return None
    d = np.abs(np.diff(raw))
    sigma_diff = 1.4826 * float(np.median(d))  # std of a difference = sqrt(2) * noise std
    return sigma_diff * sigma_diff / 2.0
