"""Weight-shelf core: load-cell samples in, picks and restocks with unit counts out. PURE.

One ``ScaleTracker`` follows one scale through its contract weight batches (gross grams, evenly
spaced at ``hz`` from ``t0``). It works like a weighing indicator with motion detection and zero
tracking, per batch in numpy (no Python loop per sample):

- *Noise*: an online estimate of the scale's white-noise std from first differences while the
  shelf is stable, learned a stable window's worth of differences at a time (a running mean, then
  memory ``noise_window_s``). Before anything is learned, and during a motion longer than
  ``relearn_after_ms``, it is estimated robustly (median of absolute differences) from at least a
  stable window of the unstable stretch, so a wrong ``noise_hint_g`` cannot lock the tracker in
  motion. The band and the stillness test use an upper confidence bound of the estimate (at
  ``noise_trust_z``, for its degrees of freedom): a short stretch that happens to look quiet would
  otherwise set a band the scale's own noise leaves, and a shelf that never looks still again.
- *Smoothing and band*: ``smoothed`` is a moving mean over ``smooth_ms``. The motion band is
  ``band_sigmas`` stds of that smoothed signal, clamped to [``min_band_g``,
  ``max_band_units * unit_weight_g``].
- *STABLE*: the smoothed signal stays within +-band of the reference level ``stable_gross_g``.
  Once a second (on a grid of sample indices, whatever the batch size) the reference follows the
  level at no more than ``track_g_per_s`` (zero tracking), so drift never becomes a movement,
  while a real step (grams in well under a second) leaves the band and starts a *MOTION*.
- *Zero and count*: like a weighing indicator's automatic zero tracking, the zero (``tare_g`` at
  first) moves with the reference while it tracks, and with every stable-to-stable change that is
  no whole unit (no event, or an ambiguous 0-unit one). ``units`` is the stable level above that
  zero in whole units, so drift, creep and foreign objects never change the count; only a counted
  event does.
- *MOTION -> STABLE*: the shelf is stable again once a whole window of ``stable_hold_ms`` (at least
  ``min_hold_samples``), starting after the motion began, of the smoothed signal spans no more than
  the band and the raw samples of that window vary no more than white noise would (a chi-square test
  at ``still_var_z``): the hand has gone and the shelf has stopped ringing. The raw mean of that
  window is the new level; the change against the reference before the motion is turned into units
  by ``ingest.weight_count.count_units``. A pick and a put inside one motion net out; a vibration
  burst or a lean-and-release returns to the same level and is no event.
- *UNKNOWN*: before the first stable level, after a gap in the batches (``t0`` later than the
  previous end), after ``mark_silent`` or a change of ``hz``. The level before is kept; the first
  stable level after is compared with it, allowing ``gap_drift_g_per_h`` of drift over the gap. A
  change across a gap is reported like any other (``across_gap=True``, ``started_ms`` = the last
  observed moment): ``ambiguous=False`` only when it is a clean whole number of units.

Event representation: ``units > 0`` for a counted movement; ``units == 0`` only with
``ambiguous=True`` (a change above the noise that is less than half a unit: a foreign object).
``kind`` is the sign of ``delta_g``. ``ts_ms`` is the first sample of the stable window after the
motion (the movement time), ``detected_ms`` its last sample (when the event was decided),
``settle_ms = ts_ms - started_ms`` (motion start to shelf still).

A batch that starts before the end of the previous one (overlap, replay out of order) is ignored
and counted in ``dropped_batches``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from ingest.weight_config import ScaleConfig
from ingest.weight_count import count_units
from ingest.weight_signal import (
    chi2_ratio_quantile,
    first_outside,
    first_stable_window,
    moving_mean,
    prefix_sums,
    robust_noise_var,
    smoothed,
)

__all__ = ["ScaleConfig", "ScaleState", "ScaleTracker", "WeightEvent", "WeightEventKind"]

_DIFF_DOF = 2.0 / 3.0  # chi-square degrees of freedom per squared first difference of white noise
_MIN_NOISE_QUANTILE = 1.0 / 16.0  # the noise bound is at most 4x the estimated std
_TRACK_MS = 1000  # zero tracking follows the level once a second, however long the batch
_MAD_EFFICIENCY = 0.37  # a median-based noise estimate is worth this share of its differences


class WeightEventKind(StrEnum):
    PICK = "pick"
    RESTOCK = "restock"


class ScaleState(StrEnum):
    STABLE = "stable"
    MOTION = "motion"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class WeightEvent:
    kind: WeightEventKind
    units: int  # > 0, or 0 only when ambiguous (a change under half a unit)
    ts_ms: int  # the shelf was stable again: the movement time
    started_ms: int  # the motion began (across a gap: the last observed moment)
    delta_g: float  # signed stable-to-stable change
    confidence: float  # 0..1
    ambiguous: bool  # not a whole number of units
    settle_ms: int  # ts_ms - started_ms
    detected_ms: int = 0  # the last sample of the stable window: when the event was decided
    across_gap: bool = False  # compared across a gap, a silence or a restart without data


@dataclass(frozen=True, slots=True)
class _Geometry:
    """Sample counts for one rate."""

    dt_ms: float
    m: int  # smoothing width
    hold: int  # stable window
    keep: int  # tail kept between batches
    track_n: int  # zero tracking steps on this grid of absolute sample indices
    var_ratio: float  # a still window's variance is at most this many noise variances


class ScaleTracker:
    """Follows one scale; one owner calls ``feed`` with batches in time order."""

    def __init__(self, config: ScaleConfig) -> None:
        self._cfg = config
        self._rule = config.count_rule()
        self._state = ScaleState.UNKNOWN
        self._ref_g: float | None = None
        self._zero_g = config.tare_g  # the empty shelf, carried by zero tracking
        self._noise_var = config.noise_hint_g**2
        self._noise_n = 0.0  # samples behind the noise estimate (0: still the hint)
        self._diff_sq_g2 = 0.0  # squared first differences of stable samples not yet learned
        self._diff_n = 0  # ... and how many
        self._seen = 0  # samples fed so far: the absolute index of the next sample
        self._still_from = 0  # absolute index where a still window may start (after the motion)
        self._hz: float | None = None
        self._end_ms: float | None = None
        self._tail: np.ndarray = np.empty(0)
        self._motion_ms: int | None = None  # the current MOTION or UNKNOWN stretch began
        self._gap_ms: int | None = None  # observation was lost (UNKNOWN after a known level)
        self.dropped_batches = 0

    # -- public surface -----------------------------------------------------------------------

    @property
    def state(self) -> ScaleState:
        return self._state

    @property
    def stable_gross_g(self) -> float | None:
        """The last stable level (kept through a MOTION); None while UNKNOWN."""
        return None if self._state is ScaleState.UNKNOWN else self._ref_g

    @property
    def units(self) -> int | None:
        """round((stable gross - zero) / unit weight), at least 0; None while UNKNOWN.

        The zero starts at ``tare_g`` and moves with zero tracking and with every change that is
        no whole unit, so only a counted movement changes this count."""
        gross = self.stable_gross_g
        if gross is None:
            return None
        return max(0, math.floor((gross - self._zero_g) / self._cfg.unit_weight_g + 0.5))

    @property
    def noise_g(self) -> float:
        return math.sqrt(self._noise_var)

    def band_g(self, hz: float) -> float:
        """The motion band in grams at this rate (for diagnostics)."""
        return self._band(self._geometry(hz))

    def feed(self, t0_ms: int, hz: float, grams: np.ndarray | Sequence[float]) -> list[WeightEvent]:
        """Apply one weight batch (samples at t0 + k * 1000 / hz); return the movements decided."""
        raw = np.asarray(grams, dtype=np.float64)
        if raw.ndim != 1 or not hz > 0 or not np.isfinite(raw).all():
            raise ValueError("a weight batch needs hz > 0 and a flat list of finite grams")
        if raw.size == 0 or not self._admit(t0_ms, hz):
            return []
        geo = self._geometry(hz)
        buf = np.concatenate((self._tail, raw)) if self._tail.size else raw
        start = buf.size - raw.size
        events = self._run(buf, start, t0_ms - start * geo.dt_ms, geo)
        self._seen += raw.size
        self._tail = buf[-geo.keep :].copy()
        self._end_ms = t0_ms + raw.size * geo.dt_ms
        return events

    def mark_silent(self, now_ms: int) -> None:
        """The scale went silent or offline: its stock is unknown until it is stable again."""
        seen_ms = now_ms if self._end_ms is None else min(now_ms, self._end_ms)
        self._lose(seen_ms)

    def snapshot(self) -> dict[str, object]:
        from ingest.weight_snapshot import dump

        return dump(self)

    @classmethod
    def restore(cls, config: ScaleConfig, snap: Mapping[str, object]) -> ScaleTracker:
        from ingest.weight_snapshot import load

        return load(cls(config), snap)

    # -- time and geometry --------------------------------------------------------------------

    def _admit(self, t0_ms: int, hz: float) -> bool:
        if self._end_ms is None or self._hz is None:
            self._hz, self._motion_ms = hz, t0_ms
            return True
        slack_ms = 500.0 / hz
        if t0_ms < self._end_ms - slack_ms:
            self.dropped_batches += 1
            return False
        if t0_ms > self._end_ms + slack_ms or hz != self._hz:
            self._lose(self._end_ms)
        self._hz = hz
        return True

    def _lose(self, seen_ms: float) -> None:
        if self._state is not ScaleState.UNKNOWN or self._gap_ms is None:
            self._gap_ms = int(seen_ms)
        self._state = ScaleState.UNKNOWN
        self._tail = np.empty(0)
        self._motion_ms = int(seen_ms)

    def _geometry(self, hz: float) -> _Geometry:
        cfg = self._cfg
        m = max(1, round(cfg.smooth_ms * hz / 1000.0))
        hold = max(cfg.min_hold_samples, round(cfg.stable_hold_ms * hz / 1000.0))
        ratio = chi2_ratio_quantile(hold - 1, cfg.still_var_z)
        track_n = max(1, round(_TRACK_MS * hz / 1000.0))
        return _Geometry(
            dt_ms=1000.0 / hz, m=m, hold=hold, keep=hold + m, track_n=track_n, var_ratio=ratio
        )

    def _band(self, geo: _Geometry) -> float:
        cfg = self._cfg
        band = cfg.band_sigmas * math.sqrt(self._noise_bound(geo) / geo.m)
        return min(max(band, cfg.min_band_g), cfg.max_band_units * cfg.unit_weight_g)

    def _noise_bound(self, geo: _Geometry) -> float:
        """The noise variance (g^2) the band and the stillness test use: an upper confidence
        bound of the estimate, wide while it rests on few samples (a short quiet stretch can
        look far quieter than the scale is), within a few percent of it once learned."""
        if self._noise_n <= 0:
            return self._noise_var  # still the hint, taken as given
        window_n = self._cfg.noise_window_s * 1000.0 / geo.dt_ms
        dof = _DIFF_DOF * min(self._noise_n, 2.0 * window_n)
        low = chi2_ratio_quantile(dof, -self._cfg.noise_trust_z)
        return self._noise_var / max(low, _MIN_NOISE_QUANTILE)

    # -- the state machine over one buffer ------------------------------------------------------

    def _run(
        self, buf: np.ndarray, start: int, t_first_ms: float, geo: _Geometry
    ) -> list[WeightEvent]:
        csum = prefix_sums(buf)
        sm = smoothed(csum, geo.m)
        base = self._seen - start  # absolute index of buf[0]
        events: list[WeightEvent] = []
        p = start
        while p < buf.size:
            band = self._band(geo)  # the noise estimate moves with every stable stretch
            if self._state is ScaleState.STABLE and self._ref_g is not None:
                stop = min(buf.size, p + geo.track_n - (base + p) % geo.track_n)
                q = first_outside(sm[:stop], p, self._ref_g, band)
                self._hold_stable(buf, csum, p, q, geo, moved=q < stop)
                if q < stop:
                    self._state = ScaleState.MOTION
                    self._motion_ms = round(t_first_ms + (q - geo.m // 2) * geo.dt_ms)
                    self._still_from = base + q + 1
                    q += 1
                p = q
                continue
            var_max = self._noise_bound(geo) * geo.var_ratio
            earliest = max(p, self._still_from - base + geo.hold - 1)
            j = first_stable_window(sm, buf, earliest, geo.hold, band, var_max)
            if j < 0:
                self._relearn_noise(buf, p, t_first_ms + buf.size * geo.dt_ms, geo)
                break
            event = self._settle(csum, j, t_first_ms, geo)
            if event is not None:
                events.append(event)
            p = j + 1
        return events

    def _hold_stable(
        self, buf: np.ndarray, csum: np.ndarray, p: int, q: int, geo: _Geometry, *, moved: bool
    ) -> None:
        """Zero tracking and noise learning over the stable stretch buf[p:q] (moved: a motion
        begins at q)."""
        assert self._ref_g is not None
        if q <= p:
            return
        limit_g = self._cfg.track_g_per_s * (q - p) * geo.dt_ms / 1000.0
        target_g = moving_mean(csum, q, geo.hold)
        step_g = min(max(target_g - self._ref_g, -limit_g), limit_g)
        self._ref_g += step_g
        self._zero_g += step_g  # drift moves the zero with the level: the count stays
        hi = q - geo.m if moved else q  # leave out the onset of the motion
        seg = buf[max(p - 1, 0) : hi]
        if seg.size >= 2:
            d = np.diff(seg)
            self._diff_sq_g2 += float(np.dot(d, d))
            self._diff_n += d.size
        if self._diff_n >= geo.hold - 1:  # learn from a stable window's worth at least
            self._learn_noise(self._diff_sq_g2 / (2.0 * self._diff_n), self._diff_n, geo)
            self._diff_sq_g2, self._diff_n = 0.0, 0

    def _learn_noise(self, var_g2: float, n: float, geo: _Geometry) -> None:
        """Running mean of the noise variance, then an exponential one over noise_window_s."""
        window_n = self._cfg.noise_window_s * 1000.0 / geo.dt_ms
        weight = n / (min(self._noise_n, window_n) + n)
        if self._noise_n > 0:
            var_g2 = min(var_g2, 4.0 * self._noise_var)
        self._noise_var += weight * (var_g2 - self._noise_var)
        self._noise_var = max(self._noise_var, self._cfg.min_noise_g**2)
        self._noise_n += n

    def _relearn_noise(self, buf: np.ndarray, p: int, end_ms: float, geo: _Geometry) -> None:
        """No still window yet: bootstrap the noise from the unstable stretch if nothing was
        learned, or re-learn it after a motion of relearn_after_ms (the noise may be
        underestimated). The stretch is buf[p:], extended back to at least a stable window's
        worth of samples: a few samples can look far quieter than the scale is."""
        since_ms = self._motion_ms if self._motion_ms is not None else end_ms
        if self._noise_n > 0 and end_ms - since_ms < self._cfg.relearn_after_ms:
            return
        seg = buf[max(min(p, buf.size - geo.hold), 0) :]
        var_g2 = robust_noise_var(seg) if seg.size >= geo.hold else None
        if var_g2 is not None:
            self._learn_noise(var_g2, _MAD_EFFICIENCY * (seg.size - 1), geo)

    def _settle(
        self, csum: np.ndarray, j: int, t_first_ms: float, geo: _Geometry
    ) -> WeightEvent | None:
        """The window ending at j is stable: adopt its level and report the change, if any."""
        level_g = moving_mean(csum, j + 1, geo.hold)
        ts_ms = round(t_first_ms + (j - geo.hold + 1) * geo.dt_ms)
        detected_ms = round(t_first_ms + j * geo.dt_ms)
        before_g, was, gap_ms = self._ref_g, self._state, self._gap_ms
        started_ms = self._motion_ms if self._motion_ms is not None else ts_ms
        self._state, self._ref_g, self._motion_ms, self._gap_ms = (
            ScaleState.STABLE,
            level_g,
            None,
            None,
        )
        if before_g is None:
            return None
        across_gap = was is ScaleState.UNKNOWN and gap_ms is not None
        level_var = self._cfg.level_var_g2(self._noise_var, geo.hold, self._band(geo))
        if across_gap:
            assert gap_ms is not None
            started_ms = gap_ms
            level_var += (self._cfg.gap_drift_g_per_h * max(ts_ms - gap_ms, 0) / 3_600_000.0) ** 2
        delta_g = level_g - before_g
        count = count_units(self._rule, delta_g, level_var)
        if count is None or count.units == 0:
            self._zero_g += delta_g  # no whole unit moved: the count stays (a zero shift)
        if count is None:
            return None
        return WeightEvent(
            kind=WeightEventKind.PICK if delta_g < 0 else WeightEventKind.RESTOCK,
            units=count.units,
            ts_ms=ts_ms,
            started_ms=min(started_ms, ts_ms),
            delta_g=round(delta_g, 3),
            confidence=count.confidence,
            ambiguous=count.ambiguous,
            settle_ms=max(ts_ms - started_ms, 0),
            detected_ms=detected_ms,
            across_gap=across_gap,
        )
