"""Vectorised signal helpers for the weight tracker: PURE numpy, grams and sample indices.

All functions work on one buffer ``raw`` (the tracker's tail followed by the new batch) and its
prefix sums ``csum`` (``csum[k] = raw[:k].sum()``, length ``len(raw) + 1``), so that any moving
mean costs two lookups. ``smoothed[j]`` is the mean of the ``m`` raw samples ending at ``j``; it is
NaN where fewer than ``m`` samples exist.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from itertools import accumulate, pairwise
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "Tracking",
    "chi2_ratio_quantile",
    "first_stable_window",
    "fsum_rows",
    "moving_mean",
    "prefix_sums",
    "quiet_track",
    "robust_noise_var",
    "smoothed",
    "sum_sq_diffs",
    "track_step",
    "tracked_outside",
    "window_variance",
]

FloatArray = np.ndarray
_CHUNK = 512  # samples examined at a time by the searches
EXACT_SUM_MAX = 256  # differences summed exactly (fsum); longer stretches use a BLAS dot


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


class Tracking(NamedTuple):
    """Zero tracking on a grid of sample indices (see ``tracked_outside``)."""

    first_end: int  # buffer index of the first grid point after start
    step: int  # samples between grid points
    hold: int  # the reference follows the mean of this many raw samples
    limit_g: float  # the most it moves per sample


def tracked_outside(
    sm: FloatArray, csum: FloatArray, start: int, track: Tracking, ref_g: float, half_band: float
) -> tuple[int, float]:
    """First index q >= start (< len(sm)) where the smoothed signal leaves ref +- half_band
    (len(sm) if it never does), and the reference at q.

    Zero tracking: the reference moves at the ends of grid chunks (``track.first_end``, then every
    ``track.step`` samples) towards the mean of the last ``track.hold`` raw samples, by at most
    ``track.limit_g`` per sample of the chunk; each chunk is checked against the reference it
    began with. At q the reference takes the partial step of the chunk q falls in.
    """
    n = sm.size
    ends = [*range(track.first_end, n, track.step), n] if track.first_end < n else [n]
    starts = [start, *ends[:-1]]
    refs = _follow(csum, starts, ends, track, ref_g)
    if len(ends) == 1:
        outside = np.abs(sm[start:] - ref_g) > half_band
    else:
        lengths = np.subtract(ends, starts)
        outside = np.abs(sm[start:] - np.repeat(refs[:-1], lengths)) > half_band
    k = int(outside.argmax())
    if not outside[k]:
        return n, refs[-1]
    q = start + k
    c = bisect_right(ends, q)
    target_g = moving_mean(csum, q, track.hold)
    return q, track_step(refs[c], target_g, track.limit_g * (q - starts[c]))


def _follow(
    csum: FloatArray, starts: list[int], ends: list[int], track: Tracking, ref_g: float
) -> list[float]:
    """The reference at the start of every chunk, then after the last one."""
    ends_arr = np.asarray(ends)
    width = np.minimum(track.hold, ends_arr)
    targets = ((csum[ends_arr] - csum[ends_arr - width]) / width).tolist()
    refs = [ref_g]
    for s, e, target_g in zip(starts, ends, targets, strict=True):
        refs.append(track_step(refs[-1], target_g, track.limit_g * (e - s)))
    return refs


def track_step(ref_g: float, target_g: float, limit_g: float) -> float:
    """One zero-tracking step: towards the target by at most limit_g."""
    return ref_g + min(max(target_g - ref_g, -limit_g), limit_g)


def sum_sq_diffs(seg: FloatArray) -> tuple[float, int]:
    """Sum of squared first differences of seg (g^2) and their number. Exactly rounded (fsum) up
    to ``EXACT_SUM_MAX`` differences, so ``quiet_track`` can reproduce it bit for bit."""
    d = np.diff(seg)
    if d.size <= EXACT_SUM_MAX:
        return math.fsum((d * d).tolist()), d.size
    return float(np.dot(d, d)), d.size


def fsum_rows(x: FloatArray) -> FloatArray:
    """``math.fsum`` of every row of a 2-D array of non-negative terms, bit for bit.

    A compensated sum along the rows (Knuth's TwoSum: the float sum ``s`` plus the exact
    rounding errors of its additions, summed in ``c``, is the exact sum ``T``), rounded once:
    ``r = s + c`` with ``s + c == r + t`` exactly. ``c`` is off the exact sum of the errors by at
    most ``bound`` (recursive summation: (k - 1) u times the sum of their sizes), so ``T`` lies
    within ``t +- bound`` of ``r``; where that interval is strictly inside the half gaps to
    ``r``'s neighbours, ``r`` is the correctly rounded ``T``, which is what ``math.fsum``
    returns. Other rows (near a tie, tiny, huge or not finite) go through ``math.fsum``."""
    rows, cols = x.shape
    if cols == 0:
        return np.zeros(rows)
    cols_first = np.ascontiguousarray(x.T)
    with np.errstate(all="ignore"):  # rows that overflow go through math.fsum
        s = cols_first[0].copy()
        c, size, t, bb, e = (np.zeros(rows) for _ in range(5))
        for b in cols_first[1:]:
            np.add(s, b, out=t)  # TwoSum(s, b): t + e == s + b
            np.subtract(t, s, out=bb)
            np.subtract(b, bb, out=e)
            np.subtract(t, bb, out=bb)
            np.subtract(s, bb, out=bb)
            np.add(bb, e, out=e)
            s, t = t, s
            c += e
            size += np.abs(e)
        r: FloatArray = s + c
        bb = r - s  # TwoSum(s, c): r + t == s + c
        t = (s - (r - bb)) + (c - bb)
        bound = size * (2.0 * cols * 2.0**-53)
        up = np.nextafter(r, np.inf) - r
        down = r - np.nextafter(r, -np.inf)
        sure = (t + bound < up / 2) & (t - bound > -down / 2) & (r > 2.0**-900) & (r < 2.0**1000)
    sure |= (s == 0.0) & (size == 0.0)  # all zeros (non-negative terms that sum to 0.0)
    for i in np.flatnonzero(~sure).tolist():
        r[i] = math.fsum(x[i].tolist())
    return r


def quiet_track(
    buf: list[float], start: int, m: int, track: Tracking, ref_g: float, half_band: float
) -> tuple[float, float] | None:
    """The quiet fast path: ``tracked_outside`` and ``sum_sq_diffs(buf[start - 1:])`` in plain
    Python, for a short buffer whose new samples buf[start:] end inside one grid chunk
    (``track.first_end >= len(buf)``, not checked) and have a full smoothing window
    (``start >= m``).

    Returns None as soon as a smoothed sample leaves ref +- half_band (the caller then takes the
    numpy path); else the reference after the chunk and the sum of squared differences, both
    bit-identical to the numpy path (the same sequential prefix sums, elementwise operations in
    the same order, and an exactly rounded sum).
    """
    n = len(buf)
    csum = list(accumulate(buf, initial=0.0))
    pairs = zip(csum[start + 1 :], csum[start + 1 - m : n + 1 - m], strict=True)
    if m == 1:  # x / 1 == x exactly
        worst_g = max([abs(a - b - ref_g) for a, b in pairs])
    else:
        worst_g = max([abs((a - b) / m - ref_g) for a, b in pairs])
    if worst_g > half_band:
        return None
    width = min(track.hold, n)
    target_g = (csum[n] - csum[n - width]) / width
    ref_after = track_step(ref_g, target_g, track.limit_g * (n - start))
    sq = math.fsum([(b - a) * (b - a) for a, b in pairwise(buf[start - 1 :])])
    return ref_after, sq


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
    return (1.0 - a + z * math.sqrt(a)) ** 3


def robust_noise_var(raw: FloatArray) -> float | None:
    """White-noise variance (g^2) from the median absolute first difference; None if too short.

    Steps and short transients barely move a median; a hand's tremor does (upwards).
    """
    if raw.size < 9:
        return None
    d = np.abs(np.diff(raw))
    sigma_diff = 1.4826 * float(np.median(d))  # std of a difference = sqrt(2) * noise std
    return sigma_diff * sigma_diff / 2.0
