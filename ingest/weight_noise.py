"""The white-noise estimate of one scale, in grams squared. PURE.

While the shelf is stable the tracker hands over the squared first differences of its samples
(``add_stable_diffs``: a first difference of white noise has twice its variance). They are learned a
stable window's worth at a time (``min_n`` differences): a running mean of the variance at first,
then an exponential one with a memory of ``noise_window_s``. An update is capped at 4 times the
current estimate, so the onset of a motion that slips into a stable stretch cannot blow it up; a
relearn from an unstable stretch (``learn`` with a robust variance) is how a low estimate recovers
when the shelf never looks still.

``bound`` is what the motion band and the stillness test use: an upper confidence bound of the
estimate at ``trust_z`` standard deviations of its chi-square distribution (Wilson-Hilferty, 2/3 of
a degree of freedom per difference), at most 4 times the estimated std. Ten differences that happen
to look quiet give a bound well above them; once a minute of samples is learned the bound is within
a few percent of the estimate. Before anything is learned the hint is taken as given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.weight_signal import chi2_ratio_quantile

__all__ = ["NoiseEstimate", "NoiseTuning", "add_stable_diffs_array", "bound_array"]

_DIFF_DOF = 2.0 / 3.0  # chi-square degrees of freedom per squared first difference of white noise
_MIN_QUANTILE = 1.0 / 16.0  # the bound is at most 4x the estimated std


@dataclass(frozen=True, slots=True)
class NoiseTuning:
    hint_g: float  # std assumed until something is learned
    min_g: float  # floor of the estimate
    window_s: float  # memory of the exponential mean
    trust_z: float  # the bound's confidence, in standard normal deviates


class NoiseEstimate:
    """Online noise variance; one owner (the tracker) feeds it in time order."""

    def __init__(self, tuning: NoiseTuning) -> None:
        self._tuning = tuning
        self.var_g2 = tuning.hint_g**2
        self.n = 0.0  # differences behind the estimate (0: still the hint)
        self.pending_sq_g2 = 0.0  # squared stable differences not learned yet
        self.pending_n = 0  # ... and how many
        self._bound: tuple[float, float, float, float] = (-1.0, -1.0, -1.0, 0.0)  # memo

    def add_stable_diffs(self, sq_g2: float, n: int, min_n: int, dt_ms: float) -> None:
        """Add n first differences (sum of squares sq_g2); learn once min_n have gathered."""
        self.pending_sq_g2 += sq_g2
        self.pending_n += n
        if self.pending_n >= min_n:
            self.learn(self.pending_sq_g2 / (2.0 * self.pending_n), self.pending_n, dt_ms)
            self.pending_sq_g2, self.pending_n = 0.0, 0

    def learn(self, var_g2: float, n: float, dt_ms: float) -> None:
        """Fold in a variance measured over n differences (fewer for a robust estimate)."""
        window_n = self._tuning.window_s * 1000.0 / dt_ms
        weight = n / (min(self.n, window_n) + n)
        if self.n > 0:
            var_g2 = min(var_g2, 4.0 * self.var_g2)
        self.var_g2 += weight * (var_g2 - self.var_g2)
        self.var_g2 = max(self.var_g2, self._tuning.min_g**2)
        self.n += n

    def bound(self, dt_ms: float) -> float:
        """Upper confidence bound of the variance (g^2) for the band and the stillness test."""
        if self.n <= 0:
            return self.var_g2
        var_g2, n, memo_dt_ms, bound_g2 = self._bound
        if var_g2 == self.var_g2 and n == self.n and memo_dt_ms == dt_ms:
            return bound_g2
        window_n = self._tuning.window_s * 1000.0 / dt_ms
        dof = _DIFF_DOF * min(self.n, 2.0 * window_n)
        low = chi2_ratio_quantile(dof, -self._tuning.trust_z)
        bound_g2 = self.var_g2 / max(low, _MIN_QUANTILE)
        self._bound = (self.var_g2, self.n, dt_ms, bound_g2)
        return bound_g2


# -- many estimates at once (``ingest.weight_bank``): bit for bit the methods above --------------
# The same operations elementwise and in the same order on the same values, Python's min(a, b)
# as np.where(b < a, b, a) and max(a, b) as np.where(b > a, b, a), and the cube of
# ``chi2_ratio_quantile`` taken in Python (numpy's power may round differently from libm's pow).


def bound_array(
    var_g2: np.ndarray, n: np.ndarray, window_s: np.ndarray, trust_z: np.ndarray, dt_ms: float
) -> np.ndarray:
    """``NoiseEstimate.bound(dt_ms)`` of estimates with these ``var_g2`` and ``n`` and tunings."""
    learned = n > 0
    window_n = window_s * 1000.0 / dt_ms
    twice = 2.0 * window_n
    dof = np.where(learned, _DIFF_DOF * np.where(twice < n, twice, n), 1.0)  # 1.0: unused
    a = 2.0 / (9.0 * dof)
    base = 1.0 - a + -trust_z * np.sqrt(a)
    low = _cubes(base)
    low = np.where(low < _MIN_QUANTILE, _MIN_QUANTILE, low)
    bound: np.ndarray = np.where(learned, var_g2 / low, var_g2)
    return bound


def _cubes(base: np.ndarray) -> np.ndarray:
    """``x**3`` of every element in Python, once per distinct value (the scales of a bank mostly
    share a tuning and a saturated estimate; 0.0 and -0.0 count as one: their cubes only differ
    in the sign of a zero, which the floor at ``_MIN_QUANTILE`` replaces)."""
    if base.size and (base == base[0]).all():
        return np.full(base.size, base[0].item() ** 3)
    distinct, inverse = np.unique(base, return_inverse=True)
    cubes: np.ndarray = np.array([x**3 for x in distinct.tolist()])[inverse]
    return cubes


def add_stable_diffs_array(
    state: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    sq_g2: np.ndarray,
    count: int,
    min_n: int,
    window_s: np.ndarray,
    min_var_g2: np.ndarray,
    dt_ms: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``add_stable_diffs(sq_g2, count, min_n, dt_ms)`` of estimates whose
    ``(var_g2, n, pending_sq_g2, pending_n)`` are ``state``; the same four after it
    (``min_var_g2``: each tuning's ``min_g**2``, as Python computes it)."""
    var_g2, n, pending_sq, pending_n = state
    pending_sq = pending_sq + sq_g2
    pending_n = pending_n + count
    learns = pending_n >= min_n
    # learn(pending_sq / (2.0 * pending_n), pending_n, dt_ms) where it learns
    with np.errstate(all="ignore"):  # Python floats never warn; rows that do not learn
        measured = pending_sq / (2.0 * pending_n)
        window_n = window_s * 1000.0 / dt_ms
        weight = pending_n / (np.where(window_n < n, window_n, n) + pending_n)
        cap = 4.0 * var_g2
        measured = np.where(n > 0, np.where(cap < measured, cap, measured), measured)
        learned = var_g2 + weight * (measured - var_g2)
    learned = np.where(min_var_g2 > learned, min_var_g2, learned)
    return (
        np.where(learns, learned, var_g2),
        np.where(learns, n + pending_n, n),
        np.where(learns, 0.0, pending_sq),
        np.where(learns, 0, pending_n),
    )
