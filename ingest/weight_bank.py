"""Many weight scales fed together, each step of all of them in one numpy pass. PURE.

A ``ScaleBank`` owns one ``ScaleTracker`` per scale id. ``feed_many`` takes batches
``(scale_id, t0_ms, hz, grams)`` of many scales and returns the movements each scale decided:
exactly (bit for bit, events and ``snapshot()``) what feeding every batch to its tracker with
``ScaleTracker.feed``, in the same order per scale, gives; a replay may group batches differently.

Per scale, the Python overhead of one ``feed`` is several times the work on a 1 s batch at 10 Hz.
The bank admits every batch with the tracker's own ``_admit`` (gaps, overlaps, changes of rate),
then groups the batches by shape (samples, tail samples and geometry) and runs the tracker's steps
for a whole group as 2-D arrays (scales x samples):

- *quiet*: a STABLE shelf whose short batch (up to ``_QUIET_MAX`` samples) ends inside one
  zero-tracking chunk (``ScaleTracker._in_band_ready``) and stays in the band: the band test, the
  zero-tracking step and the squared first differences of ``weight_signal.quiet_track``;
- *run*: any other batch, stretch by stretch as ``ScaleTracker._run_from`` goes: a STABLE stretch
  (``tracked_outside``: the first sample out of the band and the reference there) or a search for
  the first still window (``first_stable_window``), each for all the scales at that point at once.
  What follows a stretch (zero tracking and noise learning, the start of a motion, settling and
  counting, relearning the noise) is the tracker's own methods, per scale.

The band and the noise bound are computed for a whole group (``weight_noise.bound_array``), and so
is the noise update of the quiet batches (``weight_noise.add_stable_diffs_array``).

Bit-identical, because the arithmetic is the same: the same sequential prefix sums (``np.cumsum``
along a row is sequential, like ``itertools.accumulate``, and starts from an added 0.0 where
``quiet_track`` does), the same elementwise operations in the same order on the same values,
Python's ``min``/``max`` as ``np.where`` on the same comparisons, a still window's variance pivoted
on the same sample (the samples before it zeroed, which adds exact zeros), and the exactly rounded
``math.fsum`` of each stretch's squared differences. What the kernels do not cover goes through the
tracker's own code: a quiet candidate with a non-finite deviation (Python's ``max`` and numpy's
comparisons could disagree), a STABLE stretch that crosses a zero-tracking grid point, buffers of
more than ``EXACT_SUM_MAX + 1`` samples, and groups too small for numpy's fixed costs to pay.

Every batch is checked before any state changes: a malformed one (not flat, ``hz`` not in
(0, inf), a non-finite gram) raises ValueError as ``feed`` does, an unknown scale id KeyError, and
no scale has moved. A scale listed several times in one call has its batches applied in order (in
rounds: the k-th batch of every scale in round k).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from ingest.weight import (
    BAD_BATCH,
    ScaleConfig,
    ScaleState,
    ScaleTracker,
    WeightEvent,
    batch_array,
)
from ingest.weight_config import Geometry
from ingest.weight_noise import add_stable_diffs_array, bound_array
from ingest.weight_signal import EXACT_SUM_MAX, moving_mean, track_step

__all__ = ["Batch", "ScaleBank"]

Batch = tuple[str, int, float, np.ndarray | Sequence[float]]  # scale_id, t0_ms, hz, grams

_MIN_QUIET = 4  # fewer quiet candidates of one shape go through their trackers one by one
_MIN_RUN = 2  # ... and fewer other batches of one shape

# a checked batch: scale id, tracker, row of its constants, t0_ms, hz, grams, offset of the grams
_Item = tuple[str, ScaleTracker, int, int, float, np.ndarray, int]
# an admitted batch: scale id, tracker, row of its constants, t0_ms, grams, offset, geometry
_Member = tuple[str, ScaleTracker, int, int, np.ndarray, int, Geometry]
_GroupKey = tuple[int, int, float, int, int]  # samples, tail samples, dt_ms, m, hold
_Events = dict[str, list[WeightEvent]]

# the columns of the constants of each scale
_BAND_SIGMAS, _MIN_BAND, _MAX_BAND, _WINDOW_S, _TRUST_Z, _MIN_VAR, _TRACK_G_PER_S = range(7)


def _constants(tracker: ScaleTracker) -> tuple[float, ...]:
    cfg, tuning = tracker._cfg, tracker._noise._tuning
    return (
        cfg.band_sigmas,
        cfg.min_band_g,
        cfg.max_band_units * cfg.unit_weight_g,  # as ScaleTracker._band computes it
        tuning.window_s,
        tuning.trust_z,
        tuning.min_g**2,  # as NoiseEstimate.learn computes it
        cfg.track_g_per_s,
    )


class ScaleBank:
    """The trackers of many scales; one owner calls ``feed_many`` in time order per scale."""

    def __init__(self) -> None:
        self._scales: dict[str, tuple[ScaleTracker, int]] = {}  # tracker, row of its constants
        self._rows: list[tuple[float, ...]] = []
        self._table = np.empty((0, 7))  # _rows as an array
        self.quiet_batches = 0  # batches stepped by the quiet kernel (a group at once)
        self.run_batches = 0  # batches stepped stretch by stretch by the run kernels
        self.tracker_batches = 0  # batches (or their rest) fed through their own tracker

    # -- the scales --------------------------------------------------------------------------

    def add(self, scale_id: str, config: ScaleConfig) -> ScaleTracker:
        """A new scale with a fresh tracker; ValueError if the id is taken."""
        return self.adopt(scale_id, ScaleTracker(config))

    def adopt(self, scale_id: str, tracker: ScaleTracker) -> ScaleTracker:
        """Take over an existing tracker (e.g. ``ScaleTracker.restore`` from a snapshot)."""
        if scale_id in self._scales:
            raise ValueError(f"scale {scale_id!r} is already in the bank")
        self._scales[scale_id] = (tracker, len(self._rows))
        self._rows.append(_constants(tracker))
        return tracker

    def tracker(self, scale_id: str) -> ScaleTracker:
        """The scale's tracker (KeyError if unknown): state, units, snapshot."""
        return self._scales[scale_id][0]

    def __contains__(self, scale_id: object) -> bool:
        return scale_id in self._scales

    def __len__(self) -> int:
        return len(self._scales)

    def scale_ids(self) -> list[str]:
        return list(self._scales)

    def mark_silent(self, scale_id: str, now_ms: int) -> None:
        """``ScaleTracker.mark_silent`` of one scale."""
        self._scales[scale_id][0].mark_silent(now_ms)

    # -- feeding -----------------------------------------------------------------------------

    def feed_many(self, batches: Iterable[Batch]) -> dict[str, list[WeightEvent]]:
        """Apply the batches (each scale's in the given order); return the movements decided,
        by scale id, for the scales that decided any."""
        items, flat = self._check(batches)
        if len(self._table) < len(self._rows):
            self._table = np.array(self._rows, dtype=np.float64).reshape(-1, 7)
        events: _Events = {}
        rounds = _rounds(items) if len({item[0] for item in items}) < len(items) else [items]
        for batch_round in rounds:
            self._feed_round(batch_round, flat, events)
        return events

    def _check(self, batches: Iterable[Batch]) -> tuple[list[_Item], np.ndarray]:
        """Every batch checked as ``feed`` checks it, before anything changes; the grams of all
        of them in one flat array."""
        items: list[_Item] = []
        raws: list[np.ndarray] = []
        offset = 0
        scales = self._scales
        for scale_id, t0_ms, hz, grams in batches:
            scale = scales.get(scale_id)
            if scale is None:
                raise KeyError(f"unknown scale {scale_id!r}")
            raw = batch_array(hz, grams)
            items.append((scale_id, scale[0], scale[1], t0_ms, hz, raw, offset))
            raws.append(raw)
            offset += raw.size
        flat = np.concatenate(raws) if raws else np.empty(0)
        if not np.isfinite(flat).all():
            raise ValueError(BAD_BATCH)
        return items, flat

    def _feed_round(self, items: list[_Item], flat: np.ndarray, events: _Events) -> None:
        """Batches of distinct scales: admitted, grouped by shape and path, and stepped: the quiet
        candidates first; those that leave the band join the other batches of their shape."""
        quiet: dict[_GroupKey, list[_Member]] = {}
        other: dict[_GroupKey, list[_Member]] = {}
        for scale_id, tracker, row, t0_ms, hz, raw, offset in items:
            n = raw.size
            if n == 0 or not tracker._admit(t0_ms, hz):
                continue
            geo = tracker._geometry(hz)
            ready = tracker._in_band_ready(n, geo) and ScaleTracker._sums_from_zero(n)
            groups = quiet if ready else other
            key = (n, tracker._tail.size, geo.dt_ms, geo.m, geo.hold)
            member = (scale_id, tracker, row, t0_ms, raw, offset, geo)
            group = groups.get(key)
            if group is None:
                groups[key] = [member]
            else:
                group.append(member)
        for key, members in quiet.items():
            if len(members) < _MIN_QUIET:  # quiet_track each (sums from zero: not for _Runs)
                for member in members:
                    self._feed_one(member, events)
                continue
            left = self._feed_quiet(key, members, _buffers(key, members, flat), events)
            if left:
                other[key] = left + other.get(key, [])
        for key, members in other.items():
            n, start = key[0], key[1]
            if len(members) < _MIN_RUN or start + n - 1 > EXACT_SUM_MAX:
                for member in members:
                    self._feed_one(member, events)
            else:
                self._feed_runs(key, members, _buffers(key, members, flat), events)

    def _feed_one(self, member: _Member, events: _Events) -> None:
        scale_id, tracker, _, t0_ms, raw, _, geo = member
        self.tracker_batches += 1
        found = tracker._feed_admitted(t0_ms, raw, geo)
        if found:
            events.setdefault(scale_id, []).extend(found)

    def _feed_runs(
        self, key: _GroupKey, members: list[_Member], buf: np.ndarray, events: _Events
    ) -> None:
        runs = _Runs(key, members, buf, self._table)
        runs.run()
        self.tracker_batches += runs.handed_over
        self.run_batches += len(members) - runs.handed_over
        for member, found in zip(members, runs.found, strict=True):
            if found:
                events.setdefault(member[0], []).extend(found)

    def _feed_quiet(
        self, key: _GroupKey, members: list[_Member], buf: np.ndarray, events: _Events
    ) -> list[_Member]:
        """Quiet candidates (``ScaleTracker._quiet``): those that stay in the band are stepped
        here; the others are returned (for the run, as ``_run`` follows ``_quiet``)."""
        n, start, dt_ms, m, hold = key
        trackers = [mb[1] for mb in members]
        const = self._table[[mb[2] for mb in members]]
        noise = _noise_state(trackers)
        ext = np.empty((buf.shape[0], buf.shape[1] + 1))
        ext[:, 0] = 0.0
        ext[:, 1:] = buf
        csum = np.cumsum(ext, axis=1)  # from an added 0.0, as quiet_track
        ref = np.array([t._ref_g for t in trackers])
        band = _bands(
            bound_array(noise[0], noise[1], const[:, _WINDOW_S], const[:, _TRUST_Z], dt_ms),
            m,
            const,
        )
        inside, finite = _inside(csum, start, m, ref, band)
        limit = const[:, _TRACK_G_PER_S] * dt_ms / 1000.0 * n  # as ScaleTracker._tracking
        ref_after = _track_steps(_end_targets(csum, hold), ref, limit)
        rows = np.flatnonzero(inside)
        diffs = buf[rows, start:] - buf[rows, start - 1 : -1]
        sq_g2 = np.array([math.fsum(row) for row in (diffs * diffs).tolist()])
        state = add_stable_diffs_array(
            (noise[0][rows], noise[1][rows], noise[2][rows], noise[3][rows]),
            sq_g2,
            n,
            hold - 1,
            const[rows, _WINDOW_S],
            const[rows, _MIN_VAR],
            dt_ms,
        )
        zero = np.array([trackers[i]._zero_g for i in rows.tolist()])
        zero = zero + (ref_after[rows] - ref[rows])  # as ScaleTracker._follow
        tails = buf[rows, max(start + n - (hold + m), 0) :].copy()
        columns = (ref_after[rows], zero, *state)
        for k, (i, ref_g, zero_g, var_g2, count, sq, pending) in enumerate(
            zip(rows.tolist(), *(c.tolist() for c in columns), strict=True)
        ):
            tracker = trackers[i]
            tracker._ref_g, tracker._zero_g, tracker._tail = ref_g, zero_g, tails[k]
            tracker._seen += n
            tracker._end_ms = members[i][3] + n * dt_ms  # as ScaleTracker._advance
            estimate = tracker._noise
            estimate.var_g2, estimate.n = var_g2, count
            estimate.pending_sq_g2, estimate.pending_n = sq, pending
        self.quiet_batches += rows.size
        for i in np.flatnonzero(~finite).tolist():  # Python's max and numpy may disagree
            self._feed_one(members[i], events)
        return [members[i] for i in np.flatnonzero(finite & ~inside).tolist()]


class _Runs:
    """``ScaleTracker._run`` for the batches of one shape, stretch by stretch for all of them."""

    def __init__(
        self, key: _GroupKey, members: list[_Member], buf: np.ndarray, table: np.ndarray
    ) -> None:
        n, start, self.dt_ms, self.m, self.hold = key
        self.width = start + n
        self.members = members
        self.trackers = [mb[1] for mb in members]
        self.const = table[[mb[2] for mb in members]]
        self.buf = buf
        self.csum = np.empty((buf.shape[0], self.width + 1))  # as weight_signal.prefix_sums
        self.csum[:, 0] = 0.0
        np.cumsum(buf, axis=1, out=self.csum[:, 1:])
        self.sm = np.full(buf.shape, np.nan)  # as weight_signal.smoothed
        if self.width >= self.m:
            self.sm[:, self.m - 1 :] = (self.csum[:, self.m :] - self.csum[:, : -self.m]) / self.m
        diffs = buf[:, 1:] - buf[:, :-1]
        self.squares = diffs * diffs
        self.p = [start] * len(members)
        self.base = [t._seen - start for t in self.trackers]
        self.t_first_ms = [mb[3] - start * mb[6].dt_ms for mb in members]
        self.found: list[list[WeightEvent]] = [[] for _ in members]
        self.handed_over = 0

    def run(self) -> None:
        active = list(range(len(self.members)))
        while active:
            stable = [i for i in active if _is_stable(self.trackers[i])]
            if stable:
                self._stable(stable)
            searching = [
                i for i in active if self.p[i] < self.width and not _is_stable(self.trackers[i])
            ]
            if searching:
                self._search(searching)
            active = [i for i in active if self.p[i] < self.width]
        self._finish()

    def _bounds(self, rows: list[int]) -> np.ndarray:
        const = self.const[rows]
        var_g2 = np.array([self.trackers[i]._noise.var_g2 for i in rows])
        count = np.array([self.trackers[i]._noise.n for i in rows])
        return bound_array(var_g2, count, const[:, _WINDOW_S], const[:, _TRUST_Z], self.dt_ms)

    def _stable(self, rows: list[int]) -> None:
        """A STABLE stretch from p of each row (``_run_from``'s first branch)."""
        band = _bands(self._bounds(rows), self.m, self.const[rows]).tolist()
        limit = (self.const[rows, _TRACK_G_PER_S] * self.dt_ms / 1000.0).tolist()
        kept: list[int] = []
        for k, i in enumerate(rows):
            p, track_n = self.p[i], self.members[i][6].track_n
            if p == 0 or p + track_n - (self.base[i] + p) % track_n < self.width:
                self._hand_over(i)  # the stretch crosses a zero-tracking grid point
            else:
                kept.append(k)
        if not kept:
            return
        idx = np.array([rows[k] for k in kept])
        p_arr = np.array([self.p[i] for i in idx.tolist()])
        ref = np.array([self.trackers[i]._ref_g for i in idx.tolist()])
        bands = np.array([band[k] for k in kept])
        limits = np.array([limit[k] for k in kept])
        outside = np.abs(self.sm[idx] - ref[:, None]) > bands[:, None]
        outside &= np.arange(self.width) >= p_arr[:, None]
        first = outside.argmax(axis=1)
        leaves = outside[np.arange(len(kept)), first].tolist()
        ends = _track_steps(
            _end_targets(self.csum[idx], self.hold), ref, limits * (self.width - p_arr)
        )
        for k, i in enumerate(idx.tolist()):
            q, ref_g = self.width, float(ends[k])
            if leaves[k]:
                q = int(first[k])
                target_g = moving_mean(self.csum[i], q, self.hold)
                ref_g = track_step(float(ref[k]), target_g, float(limits[k]) * (q - self.p[i]))
            self._left_band(i, q, ref_g)

    def _left_band(self, i: int, q: int, ref_g: float) -> None:
        geo, p = self.members[i][6], self.p[i]
        lo, hi = max(p - 1, 0), (q if q == self.width else q - geo.m)
        sq_g2 = math.fsum(self.squares[i, lo : hi - 1].tolist()) if hi - lo >= 2 else None
        self.p[i] = self.trackers[i]._left_band(
            self.buf[i], p, q, ref_g, self.base[i], self.t_first_ms[i], geo, sq_g2
        )

    def _search(self, rows: list[int]) -> None:
        """The first still window from p of each row (``_run_from``'s second branch)."""
        bound = self._bounds(rows)
        band = _bands(bound, self.m, self.const[rows])
        var_max = bound * np.array([self.members[i][6].var_ratio for i in rows])
        lows = []
        for i in rows:
            earliest = max(self.p[i], self.trackers[i]._still_from - self.base[i] + self.hold - 1)
            lows.append(max(earliest - self.hold + 1, 0))
        ends = _first_still(self.sm, self.buf, rows, lows, self.hold, band, var_max)
        for i, j in zip(rows, ends, strict=True):
            geo, buf, csum, found = self.members[i][6], self.buf[i], self.csum[i], self.found[i]
            t_first_ms = self.t_first_ms[i]
            self.p[i] = self.trackers[i]._searched(buf, csum, self.p[i], j, t_first_ms, geo, found)

    def _hand_over(self, i: int) -> None:
        """The rest of this row's buffer through the tracker's own loop."""
        self.trackers[i]._run_from(
            self.buf[i],
            self.csum[i],
            self.sm[i],
            self.p[i],
            self.base[i],
            self.t_first_ms[i],
            self.members[i][6],
            self.found[i],
        )
        self.p[i] = self.width
        self.handed_over += 1

    def _finish(self) -> None:
        """The tail and the clock of every row, as ``_feed_admitted`` after ``_run``."""
        n = self.members[0][4].size  # every row's batch size
        tails = self.buf[:, -(self.hold + self.m) :].copy()  # geo.keep of every row
        for i, tracker in enumerate(self.trackers):
            tracker._tail = tails[i]
            tracker._advance(self.members[i][3], n, self.members[i][6])


def _noise_state(
    trackers: list[ScaleTracker],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    estimates = [t._noise for t in trackers]
    return (
        np.array([e.var_g2 for e in estimates]),
        np.array([e.n for e in estimates]),
        np.array([e.pending_sq_g2 for e in estimates]),
        np.array([e.pending_n for e in estimates], dtype=np.int64),
    )


def _bands(bound: np.ndarray, m: int, const: np.ndarray) -> np.ndarray:
    """``ScaleTracker._band`` of each row from its noise bound: Python's max, then min."""
    band = const[:, _BAND_SIGMAS] * np.sqrt(bound / m)
    low, high = const[:, _MIN_BAND], const[:, _MAX_BAND]
    band = np.where(low > band, low, band)
    out: np.ndarray = np.where(high < band, high, band)
    return out


def _is_stable(tracker: ScaleTracker) -> bool:
    return tracker._state is ScaleState.STABLE and tracker._ref_g is not None


def _buffers(key: _GroupKey, members: list[_Member], flat: np.ndarray) -> np.ndarray:
    """The tail and the batch of each member, one row each."""
    n, start = key[0], key[1]
    buf = np.empty((len(members), start + n))
    if start:
        buf[:, :start] = np.stack([mb[1]._tail for mb in members])
    offsets = np.array([mb[5] for mb in members])
    buf[:, start:] = flat[offsets[:, None] + np.arange(n)]
    return buf


def _rounds(items: list[_Item]) -> list[list[_Item]]:
    """The k-th batch of every scale in round k, in the given order."""
    rounds: list[list[_Item]] = []
    count: dict[str, int] = {}
    for item in items:
        k = count.get(item[0], 0)
        count[item[0]] = k + 1
        if k == len(rounds):
            rounds.append([])
        rounds[k].append(item)
    return rounds


# -- kernels: one row per scale ------------------------------------------------------------------


def _inside(
    csum: np.ndarray, start: int, m: int, ref: np.ndarray, band: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose smoothed samples from ``start`` on all stay within ref +- band, as
    ``quiet_track`` tests it; and rows whose deviations are all finite (for the others, Python's
    ``max`` over them and numpy's comparisons may disagree: the tracker decides those itself)."""
    n = csum.shape[1] - 1
    a = csum[:, start + 1 :]
    b = csum[:, start + 1 - m : n + 1 - m]
    smooth = a - b if m == 1 else (a - b) / m  # x / 1 == x exactly
    deviation = np.abs(smooth - ref[:, None])
    finite: np.ndarray = np.isfinite(deviation).all(axis=1)
    inside: np.ndarray = (deviation <= band[:, None]).all(axis=1) & finite
    return inside, finite


def _end_targets(csum: np.ndarray, hold: int) -> np.ndarray:
    """The mean of the last ``hold`` samples of each row (zero tracking's target)."""
    n = csum.shape[1] - 1
    width = min(hold, n)
    targets: np.ndarray = (csum[:, n] - csum[:, n - width]) / width
    return targets


def _track_steps(target: np.ndarray, ref: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """``weight_signal.track_step`` row by row: Python's max, then min, as np.where."""
    low = -limit
    step = target - ref
    step = np.where(low > step, low, step)  # max(step, -limit)
    step = np.where(limit < step, limit, step)  # min(step, limit)
    after: np.ndarray = ref + step
    return after


def _first_still(
    sm: np.ndarray,
    buf: np.ndarray,
    rows: list[int],
    lows: list[int],
    hold: int,
    bands: np.ndarray,
    var_maxes: np.ndarray,
) -> list[int]:
    """``first_stable_window`` of each row (windows starting at its ``lows`` entry; a buffer
    within one search chunk): the index the first still window ends at, or -1."""
    width = sm.shape[1]
    if width < hold:
        return [-1] * len(rows)
    idx = np.array(rows)
    low = np.array(lows)
    span = _window_spans(sm[idx], hold)  # NaN (incomplete) compares False
    ok = span <= bands[:, None]
    ok &= np.arange(width - hold + 1) >= low[:, None]
    some = ok.any(axis=1)
    if some.any():
        sel = np.flatnonzero(some)
        variance = _window_variance(buf[idx[sel]], low[sel], hold)
        ok[sel] &= variance <= var_maxes[sel][:, None]
    first = ok.argmax(axis=1)
    found = ok[np.arange(len(rows)), first].tolist()
    return [int(s) + hold - 1 if hit else -1 for s, hit in zip(first, found, strict=True)]


def _window_spans(sm: np.ndarray, hold: int) -> np.ndarray:
    """Max - min of every window of ``hold`` samples of each row, by window start (the maxima
    and minima are exact and propagate NaN, as the reductions over a sliding window view do)."""
    count = sm.shape[1] - hold + 1
    high = sm[:, :count].copy()
    low = high.copy()
    for d in range(1, hold):
        np.maximum(high, sm[:, d : d + count], out=high)
        np.minimum(low, sm[:, d : d + count], out=low)
    span: np.ndarray = high - low
    return span


def _window_variance(buf: np.ndarray, low: np.ndarray, hold: int) -> np.ndarray:
    """``weight_signal.window_variance`` of each row's samples from its ``low`` on, by window
    start: pivoted on buf[low], the samples before it zeroed (their prefix sums add exact zeros,
    so the sums from ``low`` on are the same)."""
    rows, width = buf.shape
    x = buf - buf[np.arange(rows), low][:, None]
    x[np.arange(width) < low[:, None]] = 0.0
    c1 = np.zeros((rows, width + 1))
    c2 = np.zeros((rows, width + 1))
    np.cumsum(x, axis=1, out=c1[:, 1:])
    np.cumsum(x * x, axis=1, out=c2[:, 1:])
    s1 = c1[:, hold:] - c1[:, :-hold]
    s2 = c2[:, hold:] - c2[:, :-hold]
    out: np.ndarray = np.maximum(s2 / hold - (s1 / hold) ** 2, 0.0)
    return out
