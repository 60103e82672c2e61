"""PURE mean kinetic temperature (MKT, USP <1160>): one temperature that has the same effect on
a product's degradation as the varying temperatures it went through.

    T_K = (ΔH / R) / -ln( Σ w_i · exp(-ΔH / (R · T_i)) / Σ w_i )

with ``T_i`` in kelvin, ΔH the activation energy (83.144 kJ/mol by default, so ΔH/R = 10 000 K)
and ``R`` = 8.3144 J/(mol·K). Equal weights fit readings taken at a fixed period; pass
``weights`` (e.g. seconds each reading stands for) when the spacing varies. The result is in °C
and is never below the (weighted) arithmetic mean, because exp is convex.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

GAS_CONSTANT_J_MOL_K = 8.3144
KELVIN_OFFSET = 273.15


def mean_kinetic_temperature(
    temps_c: Sequence[float],
    delta_h_kj_mol: float = 83.144,
    *,
    weights: Sequence[float] | None = None,
) -> float:
    """MKT in °C; ValueError for no readings, mismatched or negative weights."""
    if not temps_c:
        raise ValueError("mean kinetic temperature needs at least one reading")
    w = [1.0] * len(temps_c) if weights is None else [float(x) for x in weights]
    if len(w) != len(temps_c) or any(x < 0 for x in w) or sum(w) <= 0:
        raise ValueError("weights must be one non-negative number per reading, not all zero")
    ratio_k = delta_h_kj_mol * 1000.0 / GAS_CONSTANT_J_MOL_K
    # log-sum-exp keeps exp(-ΔH/RT) (≈1e-15 at room temperature) well inside float range
    exponents = [-ratio_k / (t + KELVIN_OFFSET) for t in temps_c]
    top = max(exponents)
    total = sum(wi * math.exp(e - top) for wi, e in zip(w, exponents, strict=True))
    log_mean = top + math.log(total / sum(w))
    return -ratio_k / log_mean - KELVIN_OFFSET
