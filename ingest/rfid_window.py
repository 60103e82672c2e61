"""PURE departure window: how many observed rounds a tag may go unread before it is gone.

A present tag goes unread for a run of rounds in two ways, and the window bounds both:

- independent misses (SMURF, Jeffery et al. 2006, bounding a rate rather than one test): read
  with probability p per round, R rounds a second, runs of w misses begin at ~3600*R*p*(1-p)**w
  per tag-hour;
- deep fades (a multipath null, a hand or a can in front of the tag): they begin at
  `fade_rate_per_h` per tag-hour, last an exponential time of mean `fade_mean_ms`, and read the
  tag with probability `fade_read_factor` * p meanwhile.

Together they are a two-state (Gilbert-Elliott) Markov chain per round: good -> fade with
alpha = 1 - exp(-rate/(3600 R)), fade -> good with beta = 1 - exp(-1000/(mean_ms R)) (geometric
lengths with the exponential's tail, not its mean: 1/m would make fades of m ~ 3 rounds end too
soon). With M[s, s'] = T[s, s'] * (1 - read prob in s') the chance of no read for w rounds after
a read in state s is the row sum of M**w (a 2 x 2 matrix: closed form by its eigenvalues, for
any real w), and runs of at least w unread rounds begin at

    3600 R * (pi_good * p * P_good(w) + pi_fade * eps * p * P_fade(w))   per tag-hour,

which counts the misses around a fade and the reads inside one. Checked against the simulated
channel (tests/unit/ingest/test_rfid_window.py).

The window is the shortest w at which that rate stays below `false_departure_delta`, never
shorter than the independent-miss bound, clamped to [min_window_ms, max_window_ms] of observed
time. Independent misses decide it at low read probabilities (p = 0.3: 52 rounds at 10 rounds/s
either way); fades do from p ~ 0.45 up, where 2.5 s is shorter than a deep fade can be (at
p = 0.6, 10 rounds/s, 4 fades/h of 0.3 s mean, runs of 25 unread rounds begin ~6.6 times per
10,000 tag-hours: as many false departures, each told again as an arrival seconds later).
With `fade_rate_per_h = 0` the window is the independent-miss one alone.
"""

from __future__ import annotations

import functools
import math

from ingest.rfid_types import TrackerConfig

_P_STEP = 1000  # the fade term is solved at p rounded down to 1/_P_STEP (and cached)


def window_rounds(p: float, rounds_per_s: float, cfg: TrackerConfig) -> float:
    """Missed observed rounds after which a tag with read probability `p` is gone."""
    w = _independent_rounds(p, rounds_per_s, cfg.false_departure_delta)
    if cfg.fade_rate_per_h > 0.0:
        p_floor = math.floor(p * _P_STEP) / _P_STEP  # lower p: a longer window, never shorter
        w = max(
            w,
            _combined_rounds(
                p_floor,
                rounds_per_s,
                cfg.false_departure_delta,
                cfg.fade_rate_per_h,
                cfg.fade_mean_ms,
                cfg.fade_read_factor,
            ),
        )
    lo = cfg.min_window_ms * rounds_per_s / 1000.0
    hi = cfg.max_window_ms * rounds_per_s / 1000.0
    return min(hi, max(lo, w))


def _independent_rounds(p: float, rounds_per_s: float, delta: float) -> float:
    rate_per_h = 3600.0 * rounds_per_s * p
    return math.log(max(rate_per_h / delta, 2.0)) / -math.log1p(-p)


def silent_runs_per_h(
    w: float, p: float, rounds_per_s: float, fade_rate_per_h: float, fade_mean_ms: int, eps: float
) -> float:
    """Runs of at least `w` unread rounds per tag-hour of a present tag (both causes)."""
    per_h = 3600.0 * rounds_per_s
    q_good = 1.0 - p
    if fade_rate_per_h <= 0.0:
        return per_h * p * math.exp(w * math.log(q_good))
    alpha = -math.expm1(-fade_rate_per_h / per_h)
    beta = -math.expm1(-1000.0 / (fade_mean_ms * rounds_per_s))
    q_fade = 1.0 - eps * p
    a, b = (1.0 - alpha) * q_good, alpha * q_fade  # M, row "good"
    c, d = beta * q_good, (1.0 - beta) * q_fade  # M, row "fade"
    half_tr, det = 0.5 * (a + d), a * d - b * c
    disc = math.sqrt(max(half_tr * half_tr - det, 0.0))  # > 0 while alpha, beta > 0
    m1, m2 = half_tr + disc, half_tr - disc
    # (a negative m2's term is negligible at w >= 10)
    pow1, pow2 = math.pow(m1, w), math.pow(max(m2, 0.0), w)
    span = m1 - m2
    unread_good = ((a + b - m2) * pow1 + (m1 - a - b) * pow2) / span
    unread_fade = ((c + d - m2) * pow1 + (m1 - c - d) * pow2) / span
    pi_fade = alpha / (alpha + beta)
    return per_h * p * ((1.0 - pi_fade) * unread_good + pi_fade * eps * unread_fade)


@functools.lru_cache(maxsize=4096)
def _combined_rounds(
    p: float,
    rounds_per_s: float,
    delta: float,
    fade_rate_per_h: float,
    fade_mean_ms: int,
    eps: float,
) -> float:
    """The shortest w whose silent runs (both causes) stay below `delta` per tag-hour."""

    def rate(w: float) -> float:
        return silent_runs_per_h(w, p, rounds_per_s, fade_rate_per_h, fade_mean_ms, eps)

    lo = _independent_rounds(p, rounds_per_s, delta)
    if rate(lo) <= delta:
        return lo
    hi = 2.0 * lo + 1.0
    while rate(hi) > delta:
        lo, hi = hi, 2.0 * hi
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if rate(mid) > delta:
            lo = mid
        else:
            hi = mid
    return hi
