"""Many weight scales fed together, each step of all of them in one numpy pass. PURE.

A ``ScaleBank`` owns one ``ScaleTracker`` per scale id. ``feed_many`` takes batches
``(scale_id, t0_ms, hz, grams)`` of many scales and returns the movements each scale decided:
exactly (bit for bit, events and ``snapshot()``) what feeding every batch to its tracker with
``ScaleTracker.feed``, in the same order per scale, gives; a replay may group batches differently.

Per scale, the Python overhead of one ``feed`` is several times the work on a 1 s batch at 10 Hz,
so the bank does the per-batch bookkeeping for many batches at once:

- *Checked at once*: a call of batches of distinct known scales is checked as a whole: one
  ``np.array`` per batch size stacks the grams (scales x samples), one ``np.isfinite`` checks them,
  each distinct rate is checked once, and the rows of the scale ids are kept for the next call
  that lists the same ids. Anything else (a scale listed twice, a malformed batch) is checked
  batch by batch as ``feed`` checks it (``_check``), which also says what is wrong.
- *Held scales*: the state a STABLE shelf's quiet batches change (reference, zero, tail, sample
  count, end of the last batch, noise estimate) is held by the bank in arrays, one row per scale
  (``_Held``), instead of in the tracker's attributes. A held scale's batch is admitted in bulk
  (it starts where the last one ended, at the same rate: one comparison against the arrays) and,
  if it is a quiet candidate, stepped by the quiet kernel from and into the arrays. Any other
  batch of a held scale first hands the state back to its tracker (``_Held.give_back``), which
  then takes it through the paths below; a scale whose tracker is STABLE after a call, ready for
  another quiet batch of the same size, is held again. ``tracker(id)`` and ``mark_silent`` hand
  the state back first: a tracker is current only as ``tracker(id)`` returns it (a reference kept
  from ``add`` or ``adopt`` is stale while the bank holds the scale).

The others are admitted with the tracker's own ``_admit`` (gaps, overlaps, changes of rate), then
grouped by shape (samples, tail samples and geometry), and the tracker's steps run for a whole
group as 2-D arrays (scales x samples):

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
``math.fsum`` of each stretch's squared differences (for a group of quiet batches at once
``weight_signal.fsum_rows``: a compensated sum where its rounding is provably exact, else
``math.fsum``). The held arrays are float64 and int64 copies of Python floats and ints, and the
bank holds only what it can follow exactly: a tracker whose fields have exactly those types,
batches whose ``t0_ms`` are ints or floats below 2**53 in size (converted to float64 exactly;
Python compares ints and floats exactly) and whose rates are floats (the tracker keeps the rate
object it was given: its snapshot shows its repr). What the
kernels do not cover goes through the tracker's own code: a quiet candidate with a non-finite
deviation (Python's ``max`` and numpy's comparisons could disagree), a STABLE stretch that crosses
a zero-tracking grid point, buffers of more than ``EXACT_SUM_MAX + 1`` samples, and groups too
small for numpy's fixed costs to pay.

Every batch is checked before any state changes: a malformed one (not flat, ``hz`` not in
(0, inf), a non-finite gram) raises ValueError as ``feed`` does, an unknown scale id KeyError, and
no scale has moved. A scale listed several times in one call has its batches applied in order (in
rounds: the k-th batch of every scale in round k).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import NamedTuple

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
from ingest.weight_signal import EXACT_SUM_MAX, fsum_rows, moving_mean, track_step

__all__ = ["Batch", "ScaleBank"]

Batch = tuple[str, int, float, np.ndarray | Sequence[float]]  # scale_id, t0_ms, hz, grams

_MIN_QUIET = 4  # fewer quiet candidates of one shape go through their trackers one by one
_MIN_RUN = 2  # ... and fewer other batches of one shape
_EXACT_T0 = 2.0**53  # a t0_ms of smaller size converts to float64 exactly


class _Member(NamedTuple):
    """An admitted batch, stepped through its tracker's state."""

    scale_id: str
    tracker: ScaleTracker
    row: int  # of the bank
    t0_ms: int
    raw: np.ndarray
    geo: Geometry


class _Block(NamedTuple):
    """Checked batches of distinct scales, all of the same number of samples."""

    ids: Sequence[str]
    rows: np.ndarray  # the bank row of each scale (int64)
    t0s: Sequence[int]
    hzs: Sequence[float]
    grams: np.ndarray  # one row per batch


# a batch checked alone: scale id, bank row, t0_ms, hz, grams
_Item = tuple[str, int, int, float, np.ndarray]
_GroupKey = tuple[int, int, float, int, int]  # samples, tail samples, dt_ms, m, hold
_Events = dict[str, list[WeightEvent]]
_Noise = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # var_g2, n, pending sq, pending n

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
        self._index: dict[str, int] = {}  # scale id -> row
        self._trackers: list[ScaleTracker] = []  # by row
        self._rows: list[tuple[float, ...]] = []  # the constants of each row
        self._table = np.empty((0, 7))  # _rows as an array
        self._held = _Held()
        self.quiet_batches = 0  # batches stepped by the quiet kernel (a group at once)
        self.held_batches = 0  # ... of them, from and into the bank's arrays (held scales)
        self.run_batches = 0  # batches stepped stretch by stretch by the run kernels
        self.tracker_batches = 0  # batches (or their rest) fed through their own tracker
        self.bulk_calls = 0  # calls of feed_many checked as a whole (not batch by batch)
        self._last_ids: tuple[str, ...] = ()  # of the last call checked as a whole
        self._last_rows = np.empty(0, dtype=np.int64)  # ... their rows

    # -- the scales --------------------------------------------------------------------------

    def add(self, scale_id: str, config: ScaleConfig) -> ScaleTracker:
        """A new scale with a fresh tracker; ValueError if the id is taken."""
        return self.adopt(scale_id, ScaleTracker(config))

    def adopt(self, scale_id: str, tracker: ScaleTracker) -> ScaleTracker:
        """Take over an existing tracker (e.g. ``ScaleTracker.restore`` from a snapshot)."""
        if scale_id in self._index:
            raise ValueError(f"scale {scale_id!r} is already in the bank")
        self._index[scale_id] = len(self._trackers)
        self._trackers.append(tracker)
        self._rows.append(_constants(tracker))
        self._held.grow(len(self._trackers))
        return tracker

    def tracker(self, scale_id: str) -> ScaleTracker:
        """The scale's tracker (KeyError if unknown), current: state, units, snapshot."""
        row = self._index[scale_id]
        tracker = self._trackers[row]
        self._held.give_back(row, tracker)
        return tracker

    def __contains__(self, scale_id: object) -> bool:
        return scale_id in self._index

    def __len__(self) -> int:
        return len(self._index)

    def scale_ids(self) -> list[str]:
        return list(self._index)

    def mark_silent(self, scale_id: str, now_ms: int) -> None:
        """``ScaleTracker.mark_silent`` of one scale."""
        self.tracker(scale_id).mark_silent(now_ms)

    # -- feeding -----------------------------------------------------------------------------

    def feed_many(self, batches: Iterable[Batch]) -> dict[str, list[WeightEvent]]:
        """Apply the batches (each scale's in the given order); return the movements decided,
        by scale id, for the scales that decided any."""
        listed = batches if isinstance(batches, list) else list(batches)
        bulk = self._check_bulk(listed)
        if bulk is not None:
            self.bulk_calls += 1
            rounds = [bulk]
        else:
            items = self._check(listed)
            many = len({item[0] for item in items}) < len(items)
            rounds = [_blocks(r) for r in (_rounds(items) if many else [items])]
        if len(self._table) < len(self._rows):
            self._table = np.array(self._rows, dtype=np.float64).reshape(-1, 7)
        events: _Events = {}
        for blocks in rounds:
            self._feed_round(blocks, events)
        return events

    def _check_bulk(self, batches: list[Batch]) -> list[_Block] | None:
        """Every batch checked at once, grouped by size; None unless they are well-formed batches
        of distinct known scales (``_check`` then goes batch by batch and says what is wrong)."""
        if not batches:
            return []
        try:
            ids, t0s, hzs, grams = zip(*batches, strict=True)
            rows = self._bulk_rows(ids)
            if rows is None or not all(0 < hz < math.inf for hz in set(hzs)):
                return None
            blocks = _stacked(ids, rows, t0s, hzs, grams)
        except (KeyError, TypeError, ValueError):
            return None
        if not all(np.isfinite(block.grams).all() for block in blocks):
            return None
        return blocks

    def _bulk_rows(self, ids: tuple[str, ...]) -> np.ndarray | None:
        """The rows of the scales (KeyError if one is unknown); None if one is listed twice. A
        gateway lists the same scales call after call: the last answer is kept."""
        if ids == self._last_ids:
            return self._last_rows
        rows = list(map(self._index.__getitem__, ids))
        if len(set(rows)) < len(rows):
            return None
        self._last_ids, self._last_rows = ids, np.array(rows, dtype=np.int64)
        return self._last_rows

    def _check(self, batches: list[Batch]) -> list[_Item]:
        """Every batch checked as ``feed`` checks it, before anything changes."""
        items: list[_Item] = []
        for scale_id, t0_ms, hz, grams in batches:
            row = self._index.get(scale_id)
            if row is None:
                raise KeyError(f"unknown scale {scale_id!r}")
            items.append((scale_id, row, t0_ms, hz, batch_array(hz, grams)))
        flat = np.concatenate([item[4] for item in items]) if items else np.empty(0)
        if not np.isfinite(flat).all():
            raise ValueError(BAD_BATCH)
        return items

    def _feed_round(self, blocks: list[_Block], events: _Events) -> None:
        """Batches of distinct scales: the held scales' quiet candidates from the arrays; the
        others admitted, grouped by shape and path, and stepped: the quiet candidates first; those
        that leave the band join the other batches of their shape. The scales ready for another
        quiet batch are held after."""
        quiet: dict[_GroupKey, list[_Member]] = {}
        other: dict[_GroupKey, list[_Member]] = {}
        visited: list[tuple[int, int]] = []  # row and batch size of every scale a tracker took
        for block in blocks:
            n = block.grams.shape[1]
            if n == 0:
                continue
            loose = self._feed_held(block, other, events, visited)
            if loose:
                self._admit(block, loose, quiet, other, visited)
        for key, members in quiet.items():
            if len(members) < _MIN_QUIET:  # quiet_track each (sums from zero: not for _Runs)
                for member in members:
                    self._feed_one(member, events)
                continue
            left = self._feed_quiet(key, members, events)
            if left:
                other[key] = left + other.get(key, [])
        for key, members in other.items():
            n, start = key[0], key[1]
            if len(members) < _MIN_RUN or start + n - 1 > EXACT_SUM_MAX:
                for member in members:
                    self._feed_one(member, events)
            else:
                self._feed_runs(key, members, _buffers(key, members), events)
        for row, n in visited:
            self._held.take(row, self._trackers[row], n)

    def _admit(
        self,
        block: _Block,
        loose: list[int],
        quiet: dict[_GroupKey, list[_Member]],
        other: dict[_GroupKey, list[_Member]],
        visited: list[tuple[int, int]],
    ) -> None:
        """The batches at ``loose`` in the block through their trackers' ``_admit``, each into
        its group."""
        n = block.grams.shape[1]
        quiet_size = ScaleTracker._sums_from_zero(n) and n <= EXACT_SUM_MAX
        rows, trackers = block.rows.tolist(), self._trackers
        for i in loose:
            row = rows[i]
            tracker, t0_ms, hz = trackers[row], block.t0s[i], block.hzs[i]
            if quiet_size:  # a scale may be held for batches of this size
                visited.append((row, n))
            if not tracker._admit(t0_ms, hz):
                continue
            geo = tracker._geometry(hz)
            ready = quiet_size and tracker._in_band_ready(n, geo)
            key = (n, tracker._tail.size, geo.dt_ms, geo.m, geo.hold)
            member = _Member(block.ids[i], tracker, row, t0_ms, block.grams[i], geo)
            (quiet if ready else other).setdefault(key, []).append(member)

    def _feed_held(
        self,
        block: _Block,
        other: dict[_GroupKey, list[_Member]],
        events: _Events,
        visited: list[tuple[int, int]],
    ) -> list[int]:
        """The quiet candidates of the held scales of the block, from and into the arrays; the
        positions in the block left to the trackers (the state of each handed back to it)."""
        held = self._held
        rows = block.rows
        mask = held.held[rows]
        if not mask.any():
            return list(range(rows.size))
        loose = np.flatnonzero(~mask).tolist()
        n = block.grams.shape[1]
        quiet_size = ScaleTracker._sums_from_zero(n) and n <= EXACT_SUM_MAX
        times = _exact(block.t0s, block.hzs) if quiet_size else None
        ready = np.zeros(mask.size, dtype=bool)
        if times is not None:
            ready[mask] = held.ready(rows[mask], times[0][mask], times[1][mask], n)
        loose += self._give_back(block, np.flatnonzero(mask & ~ready).tolist())
        for group in _groups(np.flatnonzero(ready), held.key[rows[ready]]):
            if group.size < _MIN_QUIET:
                loose += self._give_back(block, group.tolist())
                continue
            assert times is not None
            left, odd = self._step_held(block, group, times[0])
            self._give_back(block, left + odd)
            for i in left:  # as _run follows _quiet
                member = self._member(block, i)
                key = (member.raw.size, member.tracker._tail.size, member.geo.dt_ms)
                other.setdefault((*key, member.geo.m, member.geo.hold), []).append(member)
            for i in odd:  # Python's max and numpy may disagree
                self._feed_one(self._member(block, i), events)
            visited += [(int(rows[i]), block.grams.shape[1]) for i in left + odd]
        return loose

    def _give_back(self, block: _Block, positions: list[int]) -> list[int]:
        """The held state of the scales at these positions of the block back to their trackers;
        returns the positions."""
        for row in block.rows[positions].tolist():
            self._held.give_back(row, self._trackers[row])
        return positions

    def _member(self, block: _Block, i: int) -> _Member:
        row = int(block.rows[i])
        tracker = self._trackers[row]
        geo = tracker._geometry(block.hzs[i])  # the held geometry: _admit changes nothing
        return _Member(block.ids[i], tracker, row, block.t0s[i], block.grams[i], geo)

    def _step_held(
        self, block: _Block, group: np.ndarray, t0_ms: np.ndarray
    ) -> tuple[list[int], list[int]]:
        """The quiet kernel on held scales of one geometry and tail length (positions ``group``
        of the block, whose ``t0_ms`` are given as float64): those in the band are stepped in the
        arrays; returns those that leave it and those whose deviations are not all finite."""
        held = self._held
        rows = block.rows[group]
        geo = held.geos[int(held.key[rows[0]]) >> 32]
        n, start = block.grams.shape[1], int(held.tail_n[rows[0]])
        key = (n, start, geo.dt_ms, geo.m, geo.hold)
        buf = np.empty((rows.size, start + n))
        buf[:, :start] = held.tails[rows, held.width - start :]
        buf[:, start:] = block.grams[group]
        ref = held.ref_g[rows]
        noise = (held.var_g2[rows], held.noise_n[rows], held.pending_sq_g2[rows])
        out = _quiet_kernel(key, buf, self._table[rows], ref, (*noise, held.pending_n[rows]))
        inside = rows[out.inside]
        held.ref_g[inside] = out.ref_after
        held.zero_g[inside] = held.zero_g[inside] + (out.ref_after - ref[out.inside])
        held.var_g2[inside], held.noise_n[inside] = out.noise[0], out.noise[1]
        held.pending_sq_g2[inside], held.pending_n[inside] = out.noise[2], out.noise[3]
        held.seen[inside] += n
        held.end_ms[inside] = t0_ms[group[out.inside]] + n * geo.dt_ms  # as ScaleTracker._advance
        held.set_tails(inside, out.tails)
        self.quiet_batches += inside.size
        self.held_batches += inside.size
        return group[out.leaving].tolist(), group[out.odd].tolist()

    def _feed_one(self, member: _Member, events: _Events) -> None:
        self.tracker_batches += 1
        found = member.tracker._feed_admitted(member.t0_ms, member.raw, member.geo)
        if found:
            events.setdefault(member.scale_id, []).extend(found)

    def _feed_runs(
        self, key: _GroupKey, members: list[_Member], buf: np.ndarray, events: _Events
    ) -> None:
        runs = _Runs(key, members, buf, self._table)
        runs.run()
        self.tracker_batches += runs.handed_over
        self.run_batches += len(members) - runs.handed_over
        for member, found in zip(members, runs.found, strict=True):
            if found:
                events.setdefault(member.scale_id, []).extend(found)

    def _feed_quiet(self, key: _GroupKey, members: list[_Member], events: _Events) -> list[_Member]:
        """Quiet candidates (``ScaleTracker._quiet``) of scales the bank does not hold: those
        that stay in the band are stepped here; the others are returned (for the run, as ``_run``
        follows ``_quiet``)."""
        n, dt_ms = key[0], key[2]
        trackers = [mb.tracker for mb in members]
        ref = np.array([t._ref_g for t in trackers])
        out = _quiet_kernel(
            key,
            _buffers(key, members),
            self._table[[mb.row for mb in members]],
            ref,
            _noise_state(trackers),
        )
        rows = out.inside.tolist()
        zero = np.array([trackers[i]._zero_g for i in rows])
        zero = zero + (out.ref_after - ref[out.inside])  # as ScaleTracker._follow
        tails = out.tails
        columns = (out.ref_after, zero, *out.noise)
        for k, (i, ref_g, zero_g, var_g2, count, sq, pending) in enumerate(
            zip(rows, *(c.tolist() for c in columns), strict=True)
        ):
            tracker = trackers[i]
            tracker._ref_g, tracker._zero_g, tracker._tail = ref_g, zero_g, tails[k]
            tracker._seen += n
            tracker._end_ms = members[i].t0_ms + n * dt_ms  # as ScaleTracker._advance
            estimate = tracker._noise
            estimate.var_g2, estimate.n = var_g2, count
            estimate.pending_sq_g2, estimate.pending_n = sq, pending
        self.quiet_batches += len(rows)
        for i in out.odd.tolist():  # Python's max and numpy may disagree
            self._feed_one(members[i], events)
        return [members[i] for i in out.leaving.tolist()]


class _Held:
    """The quiet state of the scales the bank holds, one row per bank row (structure of arrays).

    A held scale is STABLE; its tracker's ``_ref_g``, ``_zero_g``, ``_tail``, ``_seen``,
    ``_end_ms`` and its noise estimate's ``var_g2``, ``n``, ``pending_sq_g2`` and ``pending_n``
    are stale, the arrays hold them (the tail right-aligned in ``tails``, ``tail_n`` long), until
    ``give_back`` writes them back as the Python floats and ints they were. The rest of the
    tracker (state, motion and gap clocks, rate, geometry) the quiet path never changes."""

    _COLUMNS = (
        ("held", np.bool_),
        ("ref_g", np.float64),
        ("zero_g", np.float64),
        ("var_g2", np.float64),
        ("noise_n", np.float64),
        ("pending_sq_g2", np.float64),
        ("pending_n", np.int64),
        ("seen", np.int64),
        ("end_ms", np.float64),
        ("hz", np.float64),
        ("tail_n", np.int64),
        ("m", np.int64),
        ("track_n", np.int64),
        ("key", np.int64),  # geometry class << 32 | tail_n: rows of one key share a kernel
    )

    def __init__(self) -> None:
        self.held = np.zeros(0, dtype=np.bool_)
        self.ref_g = self.zero_g = self.var_g2 = self.noise_n = np.zeros(0)
        self.pending_sq_g2 = self.end_ms = self.hz = np.zeros(0)
        self.pending_n = self.seen = self.tail_n = np.zeros(0, dtype=np.int64)
        self.m = self.track_n = self.key = np.zeros(0, dtype=np.int64)
        self.width = 0  # of tails: the longest tail of any geometry seen
        self.tails = np.zeros((0, 0))
        self.geos: list[Geometry] = []  # by class
        self._classes: dict[Geometry, int] = {}
        self.grow(0)

    def grow(self, size: int) -> None:
        """Room for ``size`` rows."""
        old = self.held.size
        if size <= old and size:
            return
        cap = max(size, 2 * old, 16)
        for name, dtype in self._COLUMNS:
            column = np.zeros(cap, dtype=dtype)
            column[:old] = getattr(self, name)[:old]
            setattr(self, name, column)
        tails = np.zeros((cap, self.width))
        tails[:old] = self.tails[:old]
        self.tails = tails

    def _widen(self, width: int) -> None:
        tails = np.zeros((self.tails.shape[0], width))
        tails[:, width - self.width :] = self.tails  # right-aligned
        self.tails, self.width = tails, width

    def _class(self, geo: Geometry) -> int:
        cls = self._classes.get(geo)
        if cls is None:
            cls = self._classes[geo] = len(self.geos)
            self.geos.append(geo)
            if geo.keep > self.width:
                self._widen(geo.keep)
        return cls

    def take(self, row: int, tracker: ScaleTracker, n: int) -> None:
        """Hold the scale if its tracker is STABLE, ready for another quiet batch of n samples,
        with state of exactly the types the arrays give back."""
        if tracker._state is not ScaleState.STABLE or self.held[row] or not _holdable(tracker, n):
            return
        t, noise = tracker, tracker._noise
        geo = t._geo
        assert geo is not None
        size = t._tail.size
        self.held[row] = True
        self.ref_g[row], self.zero_g[row] = t._ref_g, t._zero_g
        self.var_g2[row], self.noise_n[row] = noise.var_g2, noise.n
        self.pending_sq_g2[row], self.pending_n[row] = noise.pending_sq_g2, noise.pending_n
        self.seen[row], self.end_ms[row], self.hz[row] = t._seen, t._end_ms, t._hz
        self.m[row], self.track_n[row] = geo.m, geo.track_n
        self.key[row] = self._class(geo) << 32 | size
        self.tail_n[row] = size
        self.tails[row, self.width - size :] = t._tail

    def give_back(self, row: int, tracker: ScaleTracker) -> None:
        """The held state back into the tracker (nothing if the scale is not held)."""
        if not self.held[row]:
            return
        self.held[row] = False
        t, noise = tracker, tracker._noise
        t._ref_g, t._zero_g = float(self.ref_g[row]), float(self.zero_g[row])
        t._seen, t._end_ms = int(self.seen[row]), float(self.end_ms[row])
        t._tail = self.tails[row, self.width - int(self.tail_n[row]) :].copy()
        noise.var_g2, noise.n = float(self.var_g2[row]), float(self.noise_n[row])
        noise.pending_sq_g2 = float(self.pending_sq_g2[row])
        noise.pending_n = int(self.pending_n[row])

    def set_tails(self, rows: np.ndarray, tails: np.ndarray) -> None:
        size = tails.shape[1]
        self.tails[rows, self.width - size :] = tails
        self.tail_n[rows] = size
        self.key[rows] = self.key[rows] >> 32 << 32 | size

    def ready(self, rows: np.ndarray, t0_ms: np.ndarray, hz: np.ndarray, n: int) -> np.ndarray:
        """``ScaleTracker._admit`` admits each batch without a change (it starts within half a
        sample of the end of the last one, at the same rate), and ``_in_band_ready`` holds for
        it (a held scale is STABLE; n is short enough)."""
        end_ms = self.end_ms[rows]
        slack_ms = 500.0 / hz
        ok: np.ndarray = (t0_ms >= end_ms - slack_ms) & (t0_ms <= end_ms + slack_ms)
        ok &= hz == self.hz[rows]
        ok &= self.tail_n[rows] >= self.m[rows]
        track_n = self.track_n[rows]
        ok &= track_n - self.seen[rows] % track_n >= n  # samples to the next grid point
        return ok


def _holdable(t: ScaleTracker, n: int) -> bool:
    """STABLE, with state of the types the arrays give back, the geometry of its rate and a
    tail no longer than it keeps, and the next batch of n samples a quiet candidate."""
    noise, geo = t._noise, t._geo
    return (
        t._state is ScaleState.STABLE
        and type(t._ref_g) is float
        and type(t._zero_g) is float
        and type(t._end_ms) is float
        and type(t._hz) is float
        and type(t._seen) is int
        and {type(noise.var_g2), type(noise.n), type(noise.pending_sq_g2)} == {float}
        and type(noise.pending_n) is int
        and geo is not None
        and geo.dt_ms == 1000.0 / t._hz
        and t._tail.ndim == 1
        and t._tail.size <= geo.keep
        and ScaleTracker._sums_from_zero(n)
        and 0 < n <= EXACT_SUM_MAX
        and geo.track_n - t._seen % geo.track_n >= n
    )


def _groups(positions: np.ndarray, keys: np.ndarray) -> list[np.ndarray]:
    """The positions by key."""
    if positions.size == 0:
        return []
    if (keys == keys[0]).all():
        return [positions]
    uniq, inverse = np.unique(keys, return_inverse=True)
    return [positions[inverse == k] for k in range(uniq.size)]


def _by_size(sizes: list[int]) -> list[list[int]]:
    groups: dict[int, list[int]] = {}
    for i, size in enumerate(sizes):
        groups.setdefault(size, []).append(i)
    return list(groups.values())


def _stacked(
    ids: Sequence[str],
    rows: np.ndarray,
    t0s: Sequence[int],
    hzs: Sequence[float],
    grams: Sequence[np.ndarray | Sequence[float]],
) -> list[_Block]:
    """The batches as blocks by size: one ``np.array`` each (ValueError or TypeError if a batch
    is not a flat sequence of numbers)."""
    try:
        parts = [(ids, rows, t0s, hzs, np.array(grams, dtype=np.float64))]
    except ValueError:  # not all of one size (or not numbers: then again below)
        parts = []
        for idx in _by_size(list(map(len, grams))):
            stacked = np.array([grams[i] for i in idx], dtype=np.float64)
            parts.append(
                (
                    [ids[i] for i in idx],
                    rows[idx],
                    [t0s[i] for i in idx],
                    [hzs[i] for i in idx],
                    stacked,
                )
            )
    blocks = []
    for part_ids, part_rows, part_t0s, part_hzs, part_grams in parts:
        if part_grams.ndim != 2 or part_grams.shape[0] != len(part_ids):
            raise ValueError(BAD_BATCH)
        blocks.append(_Block(part_ids, part_rows, part_t0s, part_hzs, part_grams))
    return blocks


def _exact(t0s: Sequence[int], hzs: Sequence[float]) -> tuple[np.ndarray, np.ndarray] | None:
    """t0_ms and rates as float64, if the held arrays follow them exactly: ints or floats below
    2**53 in size (converted exactly), float rates."""
    if not set(map(type, t0s)) <= {int, float} or set(map(type, hzs)) != {float}:
        return None
    t0_ms = np.array(t0s, dtype=np.float64)
    if not np.abs(t0_ms).max() < _EXACT_T0:  # NaN fails too
        return None
    rates = set(hzs)
    hz = np.full(len(hzs), rates.pop()) if len(rates) == 1 else np.array(hzs, dtype=np.float64)
    return t0_ms, hz


def _blocks(items: list[_Item]) -> list[_Block]:
    """Batches of distinct scales checked alone, as blocks by size."""
    by_size: dict[int, list[_Item]] = {}
    for item in items:
        by_size.setdefault(item[4].size, []).append(item)
    return [
        _Block(
            [it[0] for it in group],
            np.array([it[1] for it in group], dtype=np.int64),
            [it[2] for it in group],
            [it[3] for it in group],
            np.stack([it[4] for it in group]),
        )
        for group in by_size.values()
    ]


class _Quiet(NamedTuple):
    """What the quiet kernel found, by row of its buffer."""

    inside: np.ndarray  # the rows that stay in the band
    ref_after: np.ndarray  # ... their reference after the batch
    noise: _Noise  # ... their noise estimates after it
    tails: np.ndarray  # ... their tails (a view of the buffer)
    leaving: np.ndarray  # the rows that leave the band
    odd: np.ndarray  # the rows whose deviations are not all finite


def _quiet_kernel(
    key: _GroupKey, buf: np.ndarray, const: np.ndarray, ref: np.ndarray, noise: _Noise
) -> _Quiet:
    """``ScaleTracker._quiet`` of every row: tail and batch in ``buf``, the constants of its
    scale, its reference and noise estimate."""
    n, start, dt_ms, m, hold = key
    ext = np.empty((buf.shape[0], buf.shape[1] + 1))
    ext[:, 0] = 0.0
    ext[:, 1:] = buf
    csum = np.cumsum(ext, axis=1)  # from an added 0.0, as quiet_track
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
    sq_g2 = fsum_rows(diffs * diffs)
    state = add_stable_diffs_array(
        (noise[0][rows], noise[1][rows], noise[2][rows], noise[3][rows]),
        sq_g2,
        n,
        hold - 1,
        const[rows, _WINDOW_S],
        const[rows, _MIN_VAR],
        dt_ms,
    )
    return _Quiet(
        rows,
        ref_after[rows],
        state,
        buf[rows, max(start + n - (hold + m), 0) :],
        np.flatnonzero(finite & ~inside),
        np.flatnonzero(~finite),
    )


class _Runs:
    """``ScaleTracker._run`` for the batches of one shape, stretch by stretch for all of them."""

    def __init__(
        self, key: _GroupKey, members: list[_Member], buf: np.ndarray, table: np.ndarray
    ) -> None:
        n, start, self.dt_ms, self.m, self.hold = key
        self.width = start + n
        self.members = members
        self.trackers = [mb.tracker for mb in members]
        self.const = table[[mb.row for mb in members]]
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
        self.var_ratio = np.array([mb.geo.var_ratio for mb in members])
        self.t_first_ms = [mb.t0_ms - start * mb.geo.dt_ms for mb in members]
        self.found: list[list[WeightEvent]] = [[] for _ in members]
        self.handed_over = 0

    def run(self) -> None:
        active = list(range(len(self.members)))
        trackers, p, width = self.trackers, self.p, self.width
        while active:
            stable = [i for i in active if _is_stable(trackers[i])]
            if stable:
                self._stable(stable)
                searching = [i for i in active if p[i] < width and not _is_stable(trackers[i])]
            else:
                searching = active
            if searching:
                self._search(searching)
            active = [i for i in active if p[i] < width]
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
            p, track_n = self.p[i], self.members[i].geo.track_n
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
        geo, p = self.members[i].geo, self.p[i]
        lo, hi = max(p - 1, 0), (q if q == self.width else q - geo.m)
        sq_g2 = math.fsum(self.squares[i, lo : hi - 1].tolist()) if hi - lo >= 2 else None
        self.p[i] = self.trackers[i]._left_band(
            self.buf[i], p, q, ref_g, self.base[i], self.t_first_ms[i], geo, sq_g2
        )

    def _search(self, rows: list[int]) -> None:
        """The first still window from p of each row (``_run_from``'s second branch)."""
        bound = self._bounds(rows)
        band = _bands(bound, self.m, self.const[rows])
        var_max = bound * self.var_ratio[rows]
        trackers, p, base, hold = self.trackers, self.p, self.base, self.hold
        lows = [
            max(max(p[i], trackers[i]._still_from - base[i] + hold - 1) - hold + 1, 0) for i in rows
        ]
        ends = _first_still(self.sm, self.buf, rows, lows, hold, band, var_max)
        buf, csum, members, t_first_ms, found = (
            self.buf,
            self.csum,
            self.members,
            self.t_first_ms,
            self.found,
        )
        for i, j in zip(rows, ends, strict=True):
            p[i] = trackers[i]._searched(
                buf[i], csum[i], p[i], j, t_first_ms[i], members[i].geo, found[i]
            )

    def _hand_over(self, i: int) -> None:
        """The rest of this row's buffer through the tracker's own loop."""
        self.trackers[i]._run_from(
            self.buf[i],
            self.csum[i],
            self.sm[i],
            self.p[i],
            self.base[i],
            self.t_first_ms[i],
            self.members[i].geo,
            self.found[i],
        )
        self.p[i] = self.width
        self.handed_over += 1

    def _finish(self) -> None:
        """The tail and the clock of every row, as ``_feed_admitted`` after ``_run``."""
        n = self.members[0].raw.size  # every row's batch size
        tails = self.buf[:, -(self.hold + self.m) :].copy()  # geo.keep of every row
        for i, tracker in enumerate(self.trackers):
            tracker._tail = tails[i]
            tracker._advance(self.members[i].t0_ms, n, self.members[i].geo)


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


def _buffers(key: _GroupKey, members: list[_Member]) -> np.ndarray:
    """The tail and the batch of each member, one row each."""
    n, start = key[0], key[1]
    buf = np.empty((len(members), start + n))
    if start:
        buf[:, :start] = np.array([mb.tracker._tail for mb in members])
    buf[:, start:] = np.array([mb.raw for mb in members])
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
