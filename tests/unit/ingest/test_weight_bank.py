"""ScaleBank: many scales fed together give, bit for bit, what their trackers fed one by one give.

Traces are synthetic (numpy, drawn seeds: steps of whole units under a hand, vibration bursts,
foreign objects, drift, quantised noise, and an empty shelf at a tare of 0 g whose quantised
samples are +-0.0) or come from the firmware_sim ScaleDevice. Each scale's batches (1 s mostly,
some of other sizes, gaps, overlaps, changes of rate, silent marks) are fed to a reference
ScaleTracker one at a time, and to a ScaleBank interleaved with the other scales' in random calls
of ``feed_many`` (a scale may come several times in one call). Events and snapshots are compared
by ``repr``: == would let -0.0 pass for 0.0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ingest.weight_bank
from firmware_sim.devices.scale import ScaleDevice
from ingest.weight import ScaleConfig, ScaleTracker, WeightEvent
from ingest.weight_bank import Batch, ScaleBank, _first_still, _window_variance
from ingest.weight_noise import NoiseEstimate, NoiseTuning, add_stable_diffs_array, bound_array
from ingest.weight_signal import (
    first_stable_window,
    fsum_rows,
    prefix_sums,
    smoothed,
    window_variance,
)

TARE_G = 1500.0


@dataclass(frozen=True, slots=True)
class _Feed:
    scale_id: str
    t0_ms: int
    hz: float
    grams: np.ndarray


@dataclass(frozen=True, slots=True)
class _Silent:
    scale_id: str
    now_ms: int


_Op = _Feed | _Silent


# -- traces and operations -----------------------------------------------------------------------


def _hand(rng: np.random.Generator, hz: float, before_g: float, after_g: float) -> np.ndarray:
    """A hand: presses with tremor, the load changes half way, release ringing."""
    press_g = rng.uniform(20.0, 150.0)
    t = np.arange(round(rng.uniform(0.8, 2.5) * hz)) / hz
    load = np.where(t < t.size / hz / 2, before_g, after_g)
    pressed = load + press_g * (1.0 + 0.05 * np.sin(2 * np.pi * 3.3 * t))
    ring_t = np.arange(round(0.6 * hz)) / hz
    ring = 0.4 * press_g * np.exp(-ring_t / 0.12) * np.sin(2 * np.pi * 9.0 * ring_t)
    return np.concatenate((pressed, after_g + ring))


def _shake(rng: np.random.Generator, hz: float, level_g: float) -> np.ndarray:
    """A vibration burst (a trolley bumping the gondola): the level comes back."""
    t = np.arange(round(rng.uniform(0.5, 2.0) * hz)) / hz
    amp_g = rng.uniform(3.0, 40.0)
    return level_g + amp_g * np.exp(-t / 0.5) * np.sin(2 * np.pi * rng.uniform(2.0, 12.0) * t)


def _trace(
    rng: np.random.Generator, hz: float, seconds: float, unit_g: float, tare_g: float
) -> np.ndarray:
    """Stillness, picks and restocks under a hand, shakes, foreign objects, drift and noise."""
    level_g = tare_g + unit_g * int(rng.integers(0, 30))
    parts: list[np.ndarray] = []
    size = 0
    while size < seconds * hz:
        still = np.full(round(rng.uniform(1.0, 15.0) * hz), level_g)
        kind = rng.random()
        if kind < 0.5:
            after_g = max(tare_g, level_g + unit_g * int(rng.choice([-3, -2, -1, -1, 1, 2, 5])))
            move = _hand(rng, hz, level_g, after_g)
            level_g = after_g
        elif kind < 0.8:
            move = _shake(rng, hz, level_g)
        else:
            level_g += unit_g * rng.uniform(0.2, 0.4) * rng.choice([-1.0, 1.0])  # a foreign object
            move = np.full(1, level_g)
        parts += [still, move]
        size += still.size + move.size
    grams = np.concatenate(parts)[: round(seconds * hz)]
    drift_g = rng.uniform(-15.0, 15.0) * np.arange(grams.size) / hz / 3600.0
    noise_g = rng.uniform(0.05, 2.0)
    noisy: np.ndarray = grams + drift_g + rng.normal(0.0, noise_g, grams.size)
    return np.round(noisy / 0.05) * 0.05


def _empty_shelf(rng: np.random.Generator, hz: float, seconds: float) -> np.ndarray:
    """A tare of 0 g and a quantised quiet converter: many samples are exactly +0.0 or -0.0."""
    grams = rng.normal(0.0, 0.02, round(seconds * hz))
    return np.round(grams / 0.05) * 0.05


def _ops(
    rng: np.random.Generator, scale_id: str, trace: np.ndarray, hz: float, *, rough: bool
) -> list[_Op]:
    """The batches of one scale: mostly 1 s; rough: also odd sizes, gaps, overlaps, empty
    batches, changes of rate and silent marks."""
    ops: list[_Op] = []
    k, clock_ms, rate = 0, float(rng.integers(0, 5_000)), hz
    while k < trace.size:
        r = rng.random() if rough else 1.0
        size = round(rate)
        if r < 0.03:  # a gap
            clock_ms += float(rng.uniform(200.0, 20_000.0))
            k += int(rng.integers(0, 3 * round(rate)))
            continue
        if r < 0.05:  # a replayed or late batch (it overlaps the end)
            ops.append(
                _Feed(
                    scale_id,
                    round(clock_ms) - int(rng.integers(100, 3_000)),
                    rate,
                    trace[k : k + size],
                )
            )
            continue
        if r < 0.06:
            ops.append(_Silent(scale_id, round(clock_ms) + int(rng.integers(0, 5_000))))
            continue
        if r < 0.07:
            rate = float(rng.choice([x for x in (10.0, 20.0, 80.0) if x != rate]))
        elif r < 0.2:
            size = int(rng.integers(0, 3 * round(rate) + 1))
        ops.append(_Feed(scale_id, round(clock_ms), rate, trace[k : k + size]))
        clock_ms += min(size, trace.size - k) * 1000.0 / rate
        k += size
    return ops


def _interleave(rng: np.random.Generator, per_scale: Sequence[list[_Op]]) -> list[_Op]:
    """Every scale's operations in its own order, the scales shuffled together."""
    queues = [list(reversed(ops)) for ops in per_scale]
    out: list[_Op] = []
    while any(queues):
        live = [q for q in queues if q]
        out.append(live[int(rng.integers(0, len(live)))].pop())
    return out


# -- feeding and comparing -----------------------------------------------------------------------


def _feed_alone(
    configs: dict[str, ScaleConfig], ops: Sequence[_Op]
) -> tuple[dict[str, ScaleTracker], dict[str, list[WeightEvent]]]:
    trackers = {sid: ScaleTracker(cfg) for sid, cfg in configs.items()}
    events: dict[str, list[WeightEvent]] = {sid: [] for sid in configs}
    for op in ops:
        if isinstance(op, _Silent):
            trackers[op.scale_id].mark_silent(op.now_ms)
        else:
            events[op.scale_id] += trackers[op.scale_id].feed(op.t0_ms, op.hz, op.grams)
    return trackers, events


_Peek = Callable[[ScaleBank, dict[str, int]], None]


def _feed_bank(
    rng: np.random.Generator,
    configs: dict[str, ScaleConfig],
    ops: Sequence[_Op],
    call_size: int,
    peek: _Peek | None = None,
) -> tuple[ScaleBank, dict[str, list[WeightEvent]]]:
    """The operations in calls of feed_many of random sizes around call_size; ``peek`` is
    called after every call with the number of operations applied so far, by scale."""
    bank = ScaleBank()
    for sid, cfg in configs.items():
        bank.add(sid, cfg)
    events: dict[str, list[WeightEvent]] = {sid: [] for sid in configs}
    applied = dict.fromkeys(configs, 0)
    call: list[Batch] = []
    limit = int(rng.integers(1, 2 * call_size + 1))

    def flush() -> None:
        for sid, found in bank.feed_many(call).items():
            assert found, "only scales with events are listed"
            events[sid] += found
        for batch in call:
            applied[batch[0]] += 1
        call.clear()
        if peek is not None:
            peek(bank, applied)

    for op in ops:
        if isinstance(op, _Silent):
            flush()
            bank.mark_silent(op.scale_id, op.now_ms)
            applied[op.scale_id] += 1
            continue
        call.append((op.scale_id, op.t0_ms, op.hz, op.grams))
        if len(call) >= limit:
            flush()
            limit = int(rng.integers(1, 2 * call_size + 1))
    flush()
    return bank, events


def _assert_same(
    bank: ScaleBank,
    bank_events: dict[str, list[WeightEvent]],
    trackers: dict[str, ScaleTracker],
    events: dict[str, list[WeightEvent]],
) -> None:
    for sid, tracker in trackers.items():
        assert repr(bank_events[sid]) == repr(events[sid]), sid
        assert bank_events[sid] == events[sid]
        assert repr(bank.tracker(sid).snapshot()) == repr(tracker.snapshot()), sid
        assert bank.tracker(sid).snapshot() == tracker.snapshot()


# -- properties ----------------------------------------------------------------------------------


@settings(max_examples=30)
@given(
    seed=st.integers(0, 2**32 - 1),
    scales=st.integers(2, 9),
    seconds=st.integers(20, 90),
    rough=st.booleans(),
    kernels_always=st.booleans(),
)
def test_bank_equals_trackers_fed_one_by_one(
    seed: int, scales: int, seconds: int, rough: bool, kernels_always: bool
) -> None:
    """kernels_always: groups of any size go through the kernels (the defaults leave groups of
    under 4 quiet or 2 other batches to the trackers)."""
    rng = np.random.default_rng(seed)
    configs: dict[str, ScaleConfig] = {}
    per_scale = []
    for i in range(scales):
        sid = f"scale-{i}"
        hz = float(rng.choice([10.0, 10.0, 80.0]))
        unit_g = float(rng.choice([20.0, 55.0, 180.0, 410.0]))
        if i == 0:
            configs[sid] = ScaleConfig(unit_weight_g=unit_g, tare_g=0.0)
            trace = _empty_shelf(rng, hz, seconds)
        else:
            configs[sid] = ScaleConfig(unit_weight_g=unit_g, tare_g=TARE_G)
            trace = _trace(rng, hz, seconds, unit_g, TARE_G)
        per_scale.append(_ops(rng, sid, trace, hz, rough=rough))
    ops = _interleave(rng, per_scale)
    trackers, events = _feed_alone(configs, ops)
    minimum = 1 if kernels_always else ingest.weight_bank._MIN_QUIET
    with (
        patch.object(ingest.weight_bank, "_MIN_QUIET", minimum),
        patch.object(ingest.weight_bank, "_MIN_RUN", 1 if kernels_always else 2),
    ):
        bank, bank_events = _feed_bank(rng, configs, ops, scales)
    _assert_same(bank, bank_events, trackers, events)
    if kernels_always and not rough:
        assert bank.quiet_batches > 0
        assert bank.held_batches > 0  # stepped in the bank's arrays, not through the trackers


def _snapshots_alone(configs: dict[str, ScaleConfig], ops: Sequence[_Op]) -> dict[str, list[str]]:
    """The repr of every scale's snapshot after each of its operations (and before the first)."""
    trackers = {sid: ScaleTracker(cfg) for sid, cfg in configs.items()}
    snaps = {sid: [repr(t.snapshot())] for sid, t in trackers.items()}
    for op in ops:
        tracker = trackers[op.scale_id]
        if isinstance(op, _Silent):
            tracker.mark_silent(op.now_ms)
        else:
            tracker.feed(op.t0_ms, op.hz, op.grams)
        snaps[op.scale_id].append(repr(tracker.snapshot()))
    return snaps


def _odd_types(rng: np.random.Generator, ops: list[_Op]) -> list[_Op]:
    """Some batches with a numpy integer t0_ms or an int rate: the tracker keeps the objects it
    is given (its snapshot shows them), so the bank's arrays must leave those to the trackers."""
    out: list[_Op] = []
    for op in ops:
        r = rng.random()
        if isinstance(op, _Feed) and r < 0.05:
            op = _Feed(op.scale_id, cast(int, np.int64(op.t0_ms)), op.hz, op.grams)
        elif isinstance(op, _Feed) and r < 0.1 and op.hz.is_integer():
            op = _Feed(op.scale_id, op.t0_ms, int(op.hz), op.grams)
        out.append(op)
    return out


@settings(max_examples=20)
@given(seed=st.integers(0, 2**32 - 1), scales=st.integers(3, 8), odd=st.booleans())
def test_held_scales_give_back_their_state_whenever_asked(
    seed: int, scales: int, odd: bool
) -> None:
    """A tracker (and its snapshot) asked for between calls is current, whether the bank held
    its scale or not, and asking changes nothing after; odd: some t0_ms are numpy integers and
    some rates ints (bit-identical snapshots need them through the trackers)."""
    rng = np.random.default_rng(seed)
    configs: dict[str, ScaleConfig] = {}
    per_scale = []
    for i in range(scales):
        sid = f"scale-{i}"
        hz = float(rng.choice([10.0, 10.0, 20.0]))
        unit_g = float(rng.choice([55.0, 180.0]))
        configs[sid] = ScaleConfig(unit_weight_g=unit_g, tare_g=TARE_G)
        trace = _trace(rng, hz, 60, unit_g, TARE_G)
        per_scale.append(_ops(rng, sid, trace, hz, rough=bool(rng.random() < 0.3)))
    ops = _interleave(rng, per_scale)
    if odd:
        ops = _odd_types(rng, ops)
    snaps = _snapshots_alone(configs, ops)
    peeked = 0

    def peek(bank: ScaleBank, applied: dict[str, int]) -> None:
        nonlocal peeked
        if rng.random() < 0.3:
            sid = f"scale-{int(rng.integers(0, scales))}"
            assert repr(bank.tracker(sid).snapshot()) == snaps[sid][applied[sid]], sid
            peeked += 1

    trackers, events = _feed_alone(configs, ops)
    with patch.object(ingest.weight_bank, "_MIN_QUIET", 1):
        bank, bank_events = _feed_bank(rng, configs, ops, scales, peek)
    _assert_same(bank, bank_events, trackers, events)
    assert peeked > 0
    assert bank.held_batches > 0


def test_calls_are_checked_as_a_whole_unless_a_scale_comes_twice() -> None:
    bank, call = _warm_bank()
    bulk, held = bank.bulk_calls, bank.held_batches
    bank.feed_many(call)
    assert (bank.bulk_calls, bank.held_batches) == (bulk + 1, held + 5)
    twice: list[Batch] = [
        (sid, t0_ms + 1000, hz, np.asarray(grams) + 0.1) for sid, t0_ms, hz, grams in call
    ]
    bank.feed_many([*twice[:2], (call[0][0], call[0][1] + 2000, 10.0, twice[0][3])])
    assert bank.bulk_calls == bulk + 1  # s0 twice: batch by batch, in rounds
    mixed: list[Batch] = [(sid, t0_ms + 2000, hz, grams) for sid, t0_ms, hz, grams in twice[1:]]
    mixed[0] = (mixed[0][0], mixed[0][1], 10.0, np.full(7, TARE_G + 100.0))
    bank.feed_many(mixed)  # two sizes: two blocks, checked at once
    assert bank.bulk_calls == bulk + 2


def test_a_store_of_simulated_scales_takes_the_vectorised_paths() -> None:
    """40 firmware_sim scales (10 and 80 Hz) with picks, restocks, shakes and leans for 4 minutes,
    fed about a second of the store per call (calls cut at random): the same as alone, and most
    batches take the kernels (a silent fall-back to the trackers fails this)."""
    rng = np.random.default_rng(20_240_601)
    configs: dict[str, ScaleConfig] = {}
    per_scale: list[list[_Op]] = []
    seconds = 240
    for i in range(40):
        sid = f"shelf-{i}"
        hz = 10.0 if i % 3 else 80.0
        unit_g = float(rng.choice([55.0, 180.0, 410.0]))
        dev = ScaleDevice(
            device_id=sid, hz=hz, tare_g=TARE_G, unit_weight_g=unit_g, units=20,
            noise_g=float(rng.uniform(0.3, 1.5)), seed=i,
            vibration_rate_per_h=60.0, lean_rate_per_h=40.0,
        )  # fmt: skip
        t_ms = int(rng.integers(5_000, 30_000))
        while t_ms < seconds * 1000 - 20_000:
            dev.change_units(t_ms, int(rng.choice([-2, -1, -1, 1, 3])))
            t_ms += int(rng.integers(8_000, 40_000))
        configs[sid] = ScaleConfig(unit_weight_g=unit_g, tare_g=TARE_G)
        trace = dev.samples_array(0, seconds * 1000)
        per_scale.append(_ops(rng, sid, trace, hz, rough=i % 10 == 0))
    # one second of the store per call: the k-th operation of every scale together
    ops = [
        o for k in range(max(map(len, per_scale))) for o in (s[k] for s in per_scale if k < len(s))
    ]
    trackers, events = _feed_alone(configs, ops)
    bank, bank_events = _feed_bank(rng, configs, ops, len(configs))
    _assert_same(bank, bank_events, trackers, events)
    total = bank.quiet_batches + bank.run_batches + bank.tracker_batches
    assert sum(map(len, events.values())) > 100
    # 1 s at 10 Hz is a quiet candidate, 1 s at 80 Hz (80 samples) is not: the run kernels take
    # those, and every motion; calls cut at random leave a few small groups to the trackers
    assert bank.quiet_batches > 0.3 * total
    assert bank.run_batches > 0.3 * total
    assert bank.tracker_batches < 0.15 * total
    # the quiet batches mostly from and into the held arrays; most calls checked as a whole
    assert bank.held_batches > 0.8 * bank.quiet_batches
    assert bank.bulk_calls > 0


# -- checks before anything changes ----------------------------------------------------------------


def _warm_bank() -> tuple[ScaleBank, list[Batch]]:
    """Five scales after 20 s of quiet shelf; their next second as a good call."""
    rng = np.random.default_rng(3)
    bank = ScaleBank()
    for i in range(5):
        bank.add(f"s{i}", ScaleConfig(unit_weight_g=55.0, tare_g=TARE_G))
    for t in range(21):
        call: list[Batch] = [
            (f"s{i}", t * 1000, 10.0, TARE_G + 100.0 + rng.normal(0.0, 1.0, 10)) for i in range(5)
        ]
        if t < 20:
            bank.feed_many(call)
    return bank, call


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (("s2", 20_000, 10.0, [1600.0] * 4 + [math.nan] + [1600.0] * 5), ValueError),
        (("s2", 20_000, 10.0, [1600.0] * 9 + [math.inf]), ValueError),
        (("s2", 20_000, 10.0, [[1600.0] * 5] * 2), ValueError),
        (("s2", 20_000, 0.0, [1600.0] * 10), ValueError),
        (("s2", 20_000, -10.0, [1600.0] * 10), ValueError),
        (("s2", 20_000, math.nan, [1600.0] * 10), ValueError),
        (("s2", 20_000, math.inf, [1600.0] * 10), ValueError),
        (("nowhere", 20_000, 10.0, [1600.0] * 10), KeyError),
    ],
)
def test_a_bad_batch_raises_before_any_scale_changes(
    bad: tuple[str, int, float, list[float]], error: type[Exception]
) -> None:
    bank, call = _warm_bank()
    before = {sid: repr(bank.tracker(sid).snapshot()) for sid in bank.scale_ids()}
    with pytest.raises(error):
        bank.feed_many([*call[:3], bad, *call[3:]])
    assert {sid: repr(bank.tracker(sid).snapshot()) for sid in bank.scale_ids()} == before
    if error is ValueError:  # what ScaleTracker.feed says of the same batch
        tracker = ScaleTracker(ScaleConfig(unit_weight_g=55.0, tare_g=TARE_G))
        with pytest.raises(ValueError, match="finite"):
            tracker.feed(bad[1], bad[2], bad[3])
    quiet = bank.quiet_batches
    bank.feed_many(call)  # the good batches alone go through, together
    assert bank.quiet_batches == quiet + 5


def test_scales_are_added_once_and_restored_trackers_adopted() -> None:
    bank, call = _warm_bank()
    with pytest.raises(ValueError, match="already"):
        bank.add("s0", ScaleConfig(unit_weight_g=55.0, tare_g=TARE_G))
    config = ScaleConfig(unit_weight_g=55.0, tare_g=TARE_G)
    restored = ScaleTracker.restore(config, bank.tracker("s1").snapshot())
    copy = ScaleBank()
    copy.adopt("s1", restored)
    assert "s1" in copy and len(copy) == 1 and copy.tracker("s1") is restored
    copy.feed_many([c for c in call if c[0] == "s1"])
    bank.feed_many(call)
    assert repr(copy.tracker("s1").snapshot()) == repr(bank.tracker("s1").snapshot())


# -- the noise estimate, many at once ------------------------------------------------------------


@settings(max_examples=200)
@given(
    var_g2=st.floats(0.0025, 50.0),
    n=st.sampled_from([0.0, 1.0, 9.0, 55.0, 600.0, 1e5]),
    pending=st.tuples(st.floats(0.0, 500.0), st.integers(0, 60)),
    sq_g2=st.floats(0.0, 1000.0),
    count=st.integers(1, 200),
    min_n=st.integers(1, 60),
    tuning=st.tuples(st.floats(0.01, 2.0), st.floats(1.0, 600.0), st.floats(0.0, 4.0)),
    dt_ms=st.sampled_from([1000.0 / 10.0, 1000.0 / 80.0, 1000.0 / 7.0]),
)
def test_noise_arrays_are_the_methods_bit_for_bit(
    var_g2: float,
    n: float,
    pending: tuple[float, int],
    sq_g2: float,
    count: int,
    min_n: int,
    tuning: tuple[float, float, float],
    dt_ms: float,
) -> None:
    min_g, window_s, trust_z = tuning
    estimate = NoiseEstimate(
        NoiseTuning(hint_g=1.0, min_g=min_g, window_s=window_s, trust_z=trust_z)
    )
    estimate.var_g2, estimate.n = max(var_g2, min_g**2), n
    estimate.pending_sq_g2, estimate.pending_n = pending
    one = np.ones(1)
    bound = bound_array(one * estimate.var_g2, one * n, one * window_s, one * trust_z, dt_ms)
    assert repr(bound.tolist()) == repr([estimate.bound(dt_ms)])
    state = (one * estimate.var_g2, one * n, one * pending[0], np.array([pending[1]]))
    after = add_stable_diffs_array(
        state, one * sq_g2, count, min_n, one * window_s, one * min_g**2, dt_ms
    )
    estimate.add_stable_diffs(sq_g2, count, min_n, dt_ms)
    expected = [estimate.var_g2, estimate.n, estimate.pending_sq_g2, estimate.pending_n]
    assert repr([x.tolist()[0] for x in after]) == repr(expected)


# -- the kernels, row by row against the tracker's functions ---------------------------------


@settings(max_examples=60)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 6), hold=st.integers(2, 12))
def test_window_variance_rows_are_the_function_on_each_row(seed: int, rows: int, hold: int) -> None:
    rng = np.random.default_rng(seed)
    width = hold + int(rng.integers(0, 40))
    buf = TARE_G + 300.0 * rng.random() + rng.normal(0.0, rng.uniform(0.01, 50.0), (rows, width))
    low = rng.integers(0, width - hold + 1, rows)
    out = _window_variance(buf, low, hold)
    for i in range(rows):
        expected = window_variance(buf[i, low[i] :], hold)
        assert out[i, low[i] :].tobytes() == expected.tobytes()


@settings(max_examples=60)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 6), m=st.integers(1, 8))
def test_first_still_rows_are_first_stable_window(seed: int, rows: int, m: int) -> None:
    """Bands and variance limits taken from the rows' own windows: ties decide."""
    rng = np.random.default_rng(seed)
    hold = int(rng.integers(2, 15))
    width = int(rng.integers(1, 90))
    buf = TARE_G + rng.normal(0.0, 1.0, (rows, width)).cumsum(axis=1) * rng.uniform(0.0, 0.3)
    csum = np.stack([prefix_sums(row) for row in buf])
    sm = np.stack([smoothed(c, m) for c in csum])
    lows, bands, var_maxes, earliests = [], [], [], []
    for i in range(rows):
        earliest = int(rng.integers(0, width + 2))
        earliests.append(earliest)
        lows.append(max(earliest - hold + 1, 0))
        spans = [np.ptp(sm[i, s : s + hold]) for s in range(max(width - hold + 1, 0))]
        finite = [x for x in spans if np.isfinite(x)] or [1.0]
        bands.append(float(rng.choice(finite)))
        var = window_variance(buf[i], hold) if width >= hold else np.ones(1)
        var_maxes.append(float(rng.choice(var)) * float(rng.choice([1.0, 1.0, 1.5])))
    ends = _first_still(
        sm, buf, list(range(rows)), lows, hold, np.array(bands), np.array(var_maxes)
    )
    for i in range(rows):
        j = first_stable_window(sm[i], buf[i], earliests[i], hold, bands[i], var_maxes[i])
        assert ends[i] == j


# -- exact sums, many rows at once -----------------------------------------------------------------


def _fsum_cases(rng: np.random.Generator) -> np.ndarray:
    rows, cols = int(rng.integers(1, 12)), int(rng.integers(1, 40))
    kind = int(rng.integers(0, 5))
    if kind == 0:  # squared differences of quantised samples
        return np.asarray((np.round(rng.normal(0.0, 1.0, (rows, cols)) / 0.05) * 0.05) ** 2)
    if kind == 1:  # powers of two: exact ties (1 + 2**-53 rounds to even)
        return np.exp2(rng.integers(-60, 3, (rows, cols)).astype(np.float64))
    if kind == 2:  # any scale, tiny and huge
        scale = np.exp2(rng.integers(-1074, 1000, (rows, 1)).astype(np.float64))
        return np.asarray(rng.random((rows, cols)) * scale)
    if kind == 3:  # zeros
        return np.where(rng.random((rows, cols)) < 0.6, 0.0, rng.random((rows, cols)))
    return rng.random((rows, cols))


@settings(max_examples=300)
@given(seed=st.integers(0, 2**32 - 1))
def test_fsum_rows_is_math_fsum_bit_for_bit(seed: int) -> None:
    x = _fsum_cases(np.random.default_rng(seed))
    assert repr(fsum_rows(x).tolist()) == repr([math.fsum(row) for row in x.tolist()])


def test_fsum_rows_rounds_ties_as_math_fsum() -> None:
    tie = 2.0**-53
    rows = [[1.0, tie, 0.0], [1.0, tie + 2.0**-100, 0.0], [1.0, tie, tie], [0.0] * 3]
    rows.append([1.0, tie, 2.0**-160])  # just above a tie: a compensated sum alone says 1.0
    x = np.array(rows)
    assert repr(fsum_rows(x).tolist()) == repr([math.fsum(row) for row in rows])
    assert fsum_rows(x)[-1] == 1.0 + 2.0**-52
    assert fsum_rows(np.empty((2, 0))).tolist() == [0.0, 0.0]


@settings(max_examples=100)
@given(
    rows=st.lists(
        st.tuples(
            st.floats(0.0025, 50.0),
            st.sampled_from([0.0, 1.0, 9.0, 55.0, 600.0, 1e5]),
            st.sampled_from([1.0, 60.0, 600.0]),
            st.sampled_from([0.0, 2.0, 3.5]),
        ),
        min_size=1,
        max_size=8,
    ),
    dt_ms=st.sampled_from([1000.0 / 10.0, 1000.0 / 80.0]),
)
def test_bound_array_rows_are_the_method_on_each(
    rows: list[tuple[float, float, float, float]], dt_ms: float
) -> None:
    """Rows that share their confidence term and rows that do not (the cube is taken once per
    distinct value)."""
    expected = []
    for var_g2, n, window_s, trust_z in rows:
        estimate = NoiseEstimate(
            NoiseTuning(hint_g=1.0, min_g=0.05, window_s=window_s, trust_z=trust_z)
        )
        estimate.var_g2, estimate.n = var_g2, n
        expected.append(estimate.bound(dt_ms))
    var_arr, n_arr, window_arr, z_arr = (np.array(col) for col in zip(*rows, strict=True))
    bound = bound_array(var_arr, n_arr, window_arr, z_arr, dt_ms)
    assert repr(bound.tolist()) == repr(expected)
