"""Turning a stable-to-stable weight change into a unit count with a confidence: PURE.

The change ``delta_g`` between two stable levels is ``n`` items of weight ``u`` each, give or take
the measurement error of the two levels (``level_var_g2``, grams squared) and the spread of the
items themselves (``n * (cv * u)**2``). With ``x = |delta_g| / u``:

- ``n = floor(x + 0.5)`` (half-up, symmetric for picks and restocks; never banker's rounding);
- ``z`` is the residual ``|delta_g| - n * u`` in standard deviations of that error;
- the change is *ambiguous* (not a whole number of units: a foreign object, a wrong product, a hand
  still on the shelf) when ``|z| > ambiguous_sigmas`` or the residual exceeds
  ``max_residual_units``;
- ``confidence`` is the posterior probability of ``n`` against ``n - 1`` and ``n + 1`` under that
  error model, shrunk once the residual passes 2 standard deviations; an ambiguous count has
  confidence at most 0.5;
- a change that rounds to 0 units is no event while it is within ``change_sigmas`` of the level
  error plus the spread of one item swapped for another, or below ``min_change_g``; above both it
  is an ambiguous count of 0 units (the only place ``units == 0`` appears).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["CountRule", "UnitCount", "count_units"]


@dataclass(frozen=True, slots=True)
class CountRule:
    unit_weight_g: float
    unit_cv: float
    ambiguous_sigmas: float
    max_residual_units: float
    change_sigmas: float
    min_change_g: float


@dataclass(frozen=True, slots=True)
class UnitCount:
    units: int  # >= 0; 0 only when ambiguous
    confidence: float  # 0..1
    ambiguous: bool


def count_units(rule: CountRule, delta_g: float, level_var_g2: float) -> UnitCount | None:
    """The count for a signed change, or None when the change is indistinguishable from noise."""
    u = rule.unit_weight_g
    n = math.floor(abs(delta_g) / u + 0.5)
    if n == 0:
        swap_var = level_var_g2 + 2.0 * (rule.unit_cv * u) ** 2  # one item put back for another
        threshold_g = max(rule.min_change_g, rule.change_sigmas * math.sqrt(swap_var))
        if abs(delta_g) < threshold_g:
            return None
        return UnitCount(
            units=0, confidence=_shrink(0.5, abs(delta_g), level_var_g2), ambiguous=True
        )
    var_n = _var(rule, n, level_var_g2)
    residual_g = abs(delta_g) - n * u
    z = residual_g / math.sqrt(var_n)
    ambiguous = abs(z) > rule.ambiguous_sigmas or abs(residual_g) > rule.max_residual_units * u
    confidence = _posterior(rule, abs(delta_g), n, level_var_g2) * _tail_factor(z)
    if ambiguous:
        confidence = min(confidence, 0.5)
    return UnitCount(units=n, confidence=round(confidence, 4), ambiguous=ambiguous)


def _var(rule: CountRule, n: int, level_var_g2: float) -> float:
    return level_var_g2 + n * (rule.unit_cv * rule.unit_weight_g) ** 2


def _posterior(rule: CountRule, abs_delta_g: float, n: int, level_var_g2: float) -> float:
    """P(n | delta) against the neighbours n - 1 and n + 1, equal priors, Gaussian errors."""
    log_l = {}
    for k in (n - 1, n, n + 1):
        var_k = _var(rule, k, level_var_g2)
        log_l[k] = -((abs_delta_g - k * rule.unit_weight_g) ** 2) / (2 * var_k) - 0.5 * math.log(
            var_k
        )
    top = max(log_l.values())
    total = sum(math.exp(v - top) for v in log_l.values())
    return math.exp(log_l[n] - top) / total


def _tail_factor(z: float) -> float:
    """1 for residuals within 2 sigma, then a Gaussian fall-off."""
    excess = max(abs(z) - 2.0, 0.0)
    return math.exp(-0.5 * excess * excess)


def _shrink(cap: float, abs_delta_g: float, level_var_g2: float) -> float:
    """Confidence that a sub-unit change is real (not noise), capped: the count is unknown."""
    z = abs_delta_g / math.sqrt(max(level_var_g2, 1e-12))
    return round(cap * (1.0 - math.exp(-0.5 * max(z - 3.0, 0.0) ** 2)), 4)
