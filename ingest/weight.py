"""Weight-shelf core: load-cell samples in, picks and restocks with unit counts out. PURE.

One ``ScaleTracker`` follows one scale through its contract weight batches (gross grams, evenly
spaced at ``hz`` from ``t0``). It works like a weighing indicator with motion detection and zero
tracking, per batch in numpy (no Python loop per sample but on the short quiet fast path):

- *Noise*: an online estimate of the scale's white-noise std from first differences while the
  shelf is stable (``ingest.weight_noise``). Before anything is learned, and during a motion
  longer than ``relearn_after_ms``, it is estimated robustly (median of absolute differences) from
  at least a stable window of the unstable stretch, so a wrong ``noise_hint_g`` cannot lock the
  tracker in motion. The band and the stillness test use an upper confidence bound of the
  estimate (at ``noise_trust_z``): a short stretch that happens to look quiet would otherwise set
  a band the scale's own noise leaves, and a shelf that never looks still again.
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
and counted in ``dropped_batches``. A short batch that stays in the band of a STABLE shelf (the
common case) takes a plain-Python fast path (``weight_signal.quiet_track``) with bit-identical
results. ``ingest.weight_bank.ScaleBank`` steps many trackers at once through the same methods
(``_admit``, ``_in_band_ready``/``_commit_in_band``, ``_run_from``'s stretches), bit for bit; it
holds the quiet-path state of its STABLE scales in arrays between calls and writes it back into
the tracker before anything else uses it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from ingest.weight_config import Geometry, ScaleConfig, geometry
from ingest.weight_count import count_units
from ingest.weight_noise import NoiseEstimate
from ingest.weight_signal import (
    EXACT_SUM_MAX,
    Tracking,
    first_stable_window,
    moving_mean,
    prefix_sums,
    quiet_track,
    robust_noise_var,
    smoothed,
    sum_sq_diffs,
    tracked_outside,
)

__all__ = ["ScaleConfig", "ScaleState", "ScaleTracker", "WeightEvent", "WeightEventKind"]

_MAD_EFFICIENCY = 0.37  # a median-based noise estimate is worth this share of its differences
_QUIET_MAX = 32  # batches up to this many samples may take the quiet fast path (0: never)
BAD_BATCH = "a weight batch needs 0 < hz < inf and a flat list of finite grams"


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


class ScaleTracker:
    """Follows one scale; one owner calls ``feed`` with batches in time order."""

    def __init__(self, config: ScaleConfig) -> None:
        self._cfg = config
        self._rule = config.count_rule()
        self._state = ScaleState.UNKNOWN
        self._ref_g: float | None = None
        self._zero_g = config.tare_g  # the empty shelf, carried by zero tracking
        self._noise = NoiseEstimate(config.noise_tuning())
        self._seen = 0  # samples fed so far: the absolute index of the next sample
        self._still_from = 0  # absolute index where a still window may start (after the motion)
        self._hz: float | None = None
        self._geo: Geometry | None = None  # of self._hz
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
        return math.sqrt(self._noise.var_g2)

    def band_g(self, hz: float) -> float:
        """The motion band in grams at this rate (for diagnostics)."""
        return self._band(self._geometry(hz))

    def feed(self, t0_ms: int, hz: float, grams: np.ndarray | Sequence[float]) -> list[WeightEvent]:
        """Apply one weight batch (samples at t0 + k * 1000 / hz); return the movements decided."""
        raw = batch_array(hz, grams)
        if not _all_finite(raw):
            raise ValueError(BAD_BATCH)
        if raw.size == 0 or not self._admit(t0_ms, hz):
            return []
        return self._feed_admitted(t0_ms, raw, self._geometry(hz))

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

    def _geometry(self, hz: float) -> Geometry:
        geo = self._geo
        if geo is None or geo.dt_ms != 1000.0 / hz:
            geo = self._geo = geometry(self._cfg, hz)
        return geo

    def _band(self, geo: Geometry) -> float:
        cfg = self._cfg
        band = cfg.band_sigmas * math.sqrt(self._noise.bound(geo.dt_ms) / geo.m)
        return min(max(band, cfg.min_band_g), cfg.max_band_units * cfg.unit_weight_g)

    def _tracking(self, geo: Geometry, first_end: int) -> Tracking:
        limit_g = self._cfg.track_g_per_s * geo.dt_ms / 1000.0
        return Tracking(first_end, geo.track_n, geo.hold, limit_g)

    # -- the state machine over one buffer ------------------------------------------------------

    def _feed_admitted(self, t0_ms: int, raw: np.ndarray, geo: Geometry) -> list[WeightEvent]:
        """``feed`` once the batch is checked and admitted (``ingest.weight_bank`` calls it for
        the batches it does not take itself)."""
        if self._quiet(raw, geo):
            events: list[WeightEvent] = []
        else:
            buf = np.concatenate((self._tail, raw)) if self._tail.size else raw
            start = buf.size - raw.size
            events = self._run(buf, start, t0_ms - start * geo.dt_ms, geo)
            self._tail = buf[-geo.keep :].copy()
        self._advance(t0_ms, raw.size, geo)
        return events

    def _advance(self, t0_ms: int, n: int, geo: Geometry) -> None:
        self._seen += n
        self._end_ms = t0_ms + n * geo.dt_ms

    def _in_band_ready(self, n: int, geo: Geometry) -> bool:
        """A batch of n samples would end inside the current zero-tracking chunk of a STABLE shelf
        with a full smoothing window and an exactly summed noise update: if it also stays in the
        band, it only moves the reference (``_commit_in_band``). ``_quiet`` and the vectorised
        ``ingest.weight_bank`` take such batches."""
        return (
            self._state is ScaleState.STABLE
            and self._ref_g is not None
            and n <= EXACT_SUM_MAX
            and self._tail.size >= geo.m
            and geo.track_n - self._seen % geo.track_n >= n  # samples to the next grid point
        )

    @staticmethod
    def _sums_from_zero(n: int) -> bool:
        """Whether an in-band batch of n samples takes ``_quiet`` (prefix sums accumulated from an
        initial 0.0) rather than ``_run`` (``np.cumsum``): they may differ in the sign of a zero."""
        return n <= _QUIET_MAX

    def _quiet(self, raw: np.ndarray, geo: Geometry) -> bool:
        """The fast path: a STABLE shelf whose whole short batch stays in the band and inside one
        zero-tracking chunk is tracked in plain Python, exactly as ``_run`` would."""
        if not self._sums_from_zero(raw.size) or not self._in_band_ready(raw.size, geo):
            return False
        assert self._ref_g is not None
        start = self._tail.size
        buf = self._tail.tolist() + raw.tolist()
        track = self._tracking(geo, start + geo.track_n - self._seen % geo.track_n)
        quiet = quiet_track(buf, start, geo.m, track, self._ref_g, self._band(geo))
        if quiet is None:
            return False
        ref_g, sq_g2 = quiet
        self._commit_in_band(ref_g, sq_g2, raw.size, geo, np.array(buf[-geo.keep :]))
        return True

    def _commit_in_band(
        self, ref_g: float, sq_g2: float, n: int, geo: Geometry, tail: np.ndarray
    ) -> None:
        """An in-band batch of n samples: the reference after it, the sum of its squared first
        differences (g^2) and the new tail."""
        self._follow(ref_g)
        self._noise.add_stable_diffs(sq_g2, n, geo.hold - 1, geo.dt_ms)
        self._tail = tail

    def _run(
        self, buf: np.ndarray, start: int, t_first_ms: float, geo: Geometry
    ) -> list[WeightEvent]:
        csum = prefix_sums(buf)
        sm = smoothed(csum, geo.m)
        events: list[WeightEvent] = []
        self._run_from(buf, csum, sm, start, self._seen - start, t_first_ms, geo, events)
        return events

    def _run_from(
        self,
        buf: np.ndarray,
        csum: np.ndarray,
        sm: np.ndarray,
        p: int,
        base: int,
        t_first_ms: float,
        geo: Geometry,
        events: list[WeightEvent],
    ) -> None:
        """The state machine over buf[p:] (``base``: the absolute index of buf[0]), one stretch
        at a time. ``ingest.weight_bank`` runs the same stretches for many scales at once: the
        band and the still variance from the noise estimate as here, then ``_left_band`` or
        ``_searched``."""
        while p < buf.size:
            band = self._band(geo)  # the noise estimate moves with every stable stretch
            if self._state is ScaleState.STABLE and self._ref_g is not None:
                track = self._tracking(geo, p + geo.track_n - (base + p) % geo.track_n)
                q, ref_g = tracked_outside(sm, csum, p, track, self._ref_g, band)
                p = self._left_band(buf, p, q, ref_g, base, t_first_ms, geo, None)
            else:
                var_max = self._noise.bound(geo.dt_ms) * geo.var_ratio
                earliest = max(p, self._still_from - base + geo.hold - 1)
                j = first_stable_window(sm, buf, earliest, geo.hold, band, var_max)
                p = self._searched(buf, csum, p, j, t_first_ms, geo, events)

    def _left_band(
        self,
        buf: np.ndarray,
        p: int,
        q: int,
        ref_g: float,
        base: int,
        t_first_ms: float,
        geo: Geometry,
        sq_g2: float | None,
    ) -> int:
        """STABLE from buf[p] up to q, the first index out of the band (buf.size if none), with
        the reference ``ref_g`` there: zero tracking, noise learning (``sq_g2``: the squared first
        differences of the stretch, when the caller summed them as ``sum_sq_diffs`` does) and the
        start of a MOTION. Returns where the next stretch starts."""
        self._follow(ref_g)
        lo = max(p - 1, 0)
        hi = q if q == buf.size else q - geo.m  # leave out the onset of the motion
        if hi - lo >= 2:
            if sq_g2 is None:
                sq_g2, _ = sum_sq_diffs(buf[lo:hi])
            self._noise.add_stable_diffs(sq_g2, hi - lo - 1, geo.hold - 1, geo.dt_ms)
        if q < buf.size:
            self._state = ScaleState.MOTION
            self._motion_ms = round(t_first_ms + (q - geo.m // 2) * geo.dt_ms)
            self._still_from = base + q + 1
        return q + 1

    def _searched(
        self,
        buf: np.ndarray,
        csum: np.ndarray,
        p: int,
        j: int,
        t_first_ms: float,
        geo: Geometry,
        events: list[WeightEvent],
    ) -> int:
        """The first still window from buf[p] on ends at j (-1: none, the noise may be relearned
        and the buffer is done): settle there. Returns where the next stretch starts."""
        if j < 0:
            self._relearn_noise(buf, p, t_first_ms + buf.size * geo.dt_ms, geo)
            return buf.size
        event = self._settle(csum, j, t_first_ms, geo)
        if event is not None:
            events.append(event)
        return j + 1

    def _follow(self, ref_g: float) -> None:
        """Zero tracking moved the reference: the zero moves with it, so the count stays."""
        assert self._ref_g is not None
        self._zero_g += ref_g - self._ref_g
        self._ref_g = ref_g

    def _relearn_noise(self, buf: np.ndarray, p: int, end_ms: float, geo: Geometry) -> None:
        """No still window yet: bootstrap the noise from the unstable stretch if nothing was
        learned, or re-learn it after a motion of relearn_after_ms (the noise may be
        underestimated). The stretch is buf[p:], extended back to at least a stable window's
        worth of samples: a few samples can look far quieter than the scale is."""
        since_ms = self._motion_ms if self._motion_ms is not None else end_ms
        if self._noise.n > 0 and end_ms - since_ms < self._cfg.relearn_after_ms:
            return
        seg = buf[max(min(p, buf.size - geo.hold), 0) :]
        var_g2 = robust_noise_var(seg) if seg.size >= geo.hold else None
        if var_g2 is not None:
            self._noise.learn(var_g2, _MAD_EFFICIENCY * (seg.size - 1), geo.dt_ms)

    def _settle(
        self, csum: np.ndarray, j: int, t_first_ms: float, geo: Geometry
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
        level_var = self._cfg.level_var_g2(self._noise.var_g2, geo.hold, self._band(geo))
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


def batch_array(hz: float, grams: np.ndarray | Sequence[float]) -> np.ndarray:
    """A batch's grams as a float64 array; ValueError unless flat with 0 < hz < inf (the finite
    grams are checked apart: ``_all_finite``, or in bulk by ``ingest.weight_bank``)."""
    raw = np.asarray(grams, dtype=np.float64)
    if raw.ndim != 1 or not 0 < hz < math.inf:
        raise ValueError(BAD_BATCH)
    return raw


def _all_finite(raw: np.ndarray) -> bool:
    if raw.size <= _QUIET_MAX:  # plain Python is faster on a few samples
        return all(map(math.isfinite, raw.tolist()))
    return bool(np.isfinite(raw).all())
