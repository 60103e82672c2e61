"""ScaleTracker stories: picks, restocks, hands, shakes, leans, gaps and restarts.

Traces are either built by hand (numpy, fixed seeds) where the exact shape matters, or produced by
the firmware_sim ScaleDevice with its random disturbances switched off.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

import ingest.weight
from firmware_sim.devices.scale import ScaleDevice
from ingest.weight import ScaleConfig, ScaleState, ScaleTracker, WeightEvent, WeightEventKind
from ingest.weight_baseline import BaselineConfig, BaselineTracker

TARE_G = 1500.0


def _feed(
    tracker: ScaleTracker, grams: np.ndarray, hz: float, *, batch_s: float = 1.0, t0_ms: int = 0
) -> list[WeightEvent]:
    """Feed a whole trace in batches of batch_s seconds (the last one may be shorter)."""
    per = round(batch_s * hz)
    events: list[WeightEvent] = []
    for k in range(0, grams.size, per):
        events += tracker.feed(t0_ms + round(k * 1000 / hz), hz, grams[k : k + per])
    return events


def _level(
    seconds: float,
    hz: float,
    grams: float,
    noise_g: float,
    rng: np.random.Generator,
) -> np.ndarray:
    n = round(seconds * hz)
    return grams + rng.normal(0.0, noise_g, n)


def _hand(
    hz: float,
    before_g: float,
    after_g: float,
    noise_g: float,
    rng: np.random.Generator,
    *,
    press_g: float = 120.0,
    seconds: float = 1.5,
) -> np.ndarray:
    """A hand: presses with tremor, the load changes half way, release ringing."""
    t = np.arange(round(seconds * hz)) / hz
    load = np.where(t < seconds / 2, before_g, after_g)
    tremor = 0.05 * press_g * np.sin(2 * np.pi * 3.3 * t) + 0.04 * press_g * np.sin(
        2 * np.pi * 0.7 * t
    )
    ring_t = np.arange(round(0.6 * hz)) / hz
    ring = 0.4 * press_g * np.exp(-ring_t / 0.12) * np.sin(2 * np.pi * 9.0 * ring_t)
    pressed = load + press_g + tremor + rng.normal(0.0, noise_g, t.size)
    released = after_g + ring + rng.normal(0.0, noise_g, ring_t.size)
    return np.concatenate((pressed, released))


def _tracker(unit_g: float = 55.0, **kw: Any) -> ScaleTracker:
    return ScaleTracker(ScaleConfig(unit_weight_g=unit_g, tare_g=TARE_G, **kw))


def _device(
    hz: float,
    unit_g: float = 55.0,
    units: int = 20,
    noise_g: float = 1.0,
    seed: int = 1,
    **kw: float,
) -> ScaleDevice:
    kw = {"vibration_rate_per_h": 0.0, "lean_rate_per_h": 0.0, **kw}
    return ScaleDevice(
        device_id="s",
        hz=hz,
        tare_g=TARE_G,
        unit_weight_g=unit_g,
        units=units,
        noise_g=noise_g,
        seed=seed,
        **kw,
    )


def _run_device(
    dev: ScaleDevice,
    tracker: ScaleTracker,
    end_ms: int,
    batch_ms: int = 1000,
) -> list[WeightEvent]:
    events: list[WeightEvent] = []
    for t0 in range(0, end_ms, batch_ms):
        events += tracker.feed(t0, dev.hz, dev.samples(t0, t0 + batch_ms))
    return events


# -- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("unit_weight_g", 0.0),
        ("unit_weight_g", -5.0),
        ("stable_hold_ms", 0),
        ("unit_cv", -0.1),
        ("max_band_units", 0.7),
        ("min_hold_samples", 1),
        ("noise_hint_g", math.nan),
    ],
)
def test_config_rejects_nonsense_with_the_field_name(field: str, value: float) -> None:
    args = {"unit_weight_g": 55.0, "tare_g": TARE_G, field: value}
    with pytest.raises(ValueError, match=field):
        ScaleConfig(**args)  # type: ignore[arg-type]


def test_config_rejects_booleans() -> None:
    with pytest.raises(ValueError, match="unit_weight_g"):
        ScaleConfig(unit_weight_g=True, tare_g=0.0)


# -- movements -----------------------------------------------------------------------------------


@pytest.mark.parametrize("hz", [10.0, 80.0])
@pytest.mark.parametrize("delta_units", [-1, -3, 2, 7])
def test_pick_or_restock_of_several_units_is_one_counted_event(hz: float, delta_units: int) -> None:
    dev = _device(hz, noise_g=1.0, seed=abs(delta_units))
    tracker = _tracker()
    dev.change_units(10_000, delta_units)
    events = _run_device(dev, tracker, 20_000)
    truth = dev.truth[0]
    assert len(events) == 1
    ev = events[0]
    assert ev.kind is (WeightEventKind.PICK if delta_units < 0 else WeightEventKind.RESTOCK)
    assert ev.units == abs(delta_units)
    assert not ev.ambiguous and ev.confidence > 0.9
    assert ev.delta_g == pytest.approx(truth.delta_g, abs=3.0)
    assert truth.start_ms - 200 <= ev.started_ms < ev.ts_ms <= ev.detected_ms
    assert ev.settle_ms == ev.ts_ms - ev.started_ms
    assert ev.detected_ms - truth.stable_ms <= (1500 if hz == 80 else 2500)
    assert tracker.units == 20 + delta_units
    assert tracker.state is ScaleState.STABLE


def test_hand_pressing_while_taking_an_item_is_one_pick() -> None:
    rng = np.random.default_rng(3)
    hz, before, after = 80.0, TARE_G + 10 * 55.0, TARE_G + 9 * 55.0
    trace = np.concatenate(
        (
            _level(5, hz, before, 0.5, rng),
            _hand(hz, before, after, 0.5, rng),
            _level(5, hz, after, 0.5, rng),
        )
    )
    events = _feed(_tracker(), trace, hz)
    assert [(e.kind, e.units, e.ambiguous) for e in events] == [(WeightEventKind.PICK, 1, False)]


@pytest.mark.parametrize(
    ("take", "put", "expected"), [(1, 1, []), (2, 1, [("pick", 1)]), (1, 3, [("restock", 2)])]
)
def test_pick_and_put_inside_one_motion_report_the_net_change(
    take: int, put: int, expected: list[tuple[str, int]]
) -> None:
    dev = _device(80.0, unit_g=180.0, noise_g=1.0, seed=7)
    dev.change_units(10_000, -take)
    dev.change_units(10_500, put)
    events = _run_device(dev, _tracker(180.0), 20_000)
    assert [(e.kind.value, e.units) for e in events] == expected


@pytest.mark.parametrize("hz", [10.0, 80.0])
def test_vibration_burst_is_no_movement(hz: float) -> None:
    rng = np.random.default_rng(5)
    level = TARE_G + 400.0
    t = np.arange(round(2.0 * hz)) / hz
    shake = 40.0 * np.sin(np.pi * t / 2.0) * np.sin(2 * np.pi * 6.3 * t)
    trace = np.concatenate(
        (
            _level(5, hz, level, 1.0, rng),
            level + shake + rng.normal(0, 1.0, t.size),
            _level(5, hz, level, 1.0, rng),
        )
    )
    tracker = _tracker()
    assert _feed(tracker, trace, hz) == []
    assert tracker.state is ScaleState.STABLE


@pytest.mark.parametrize("hz", [10.0, 80.0])
def test_shelf_leaned_on_and_released_is_no_movement(hz: float) -> None:
    rng = np.random.default_rng(6)
    level = TARE_G + 20 * 55.0
    lean = _hand(hz, level, level, 1.0, rng, press_g=700.0, seconds=4.0)
    trace = np.concatenate((_level(5, hz, level, 1.0, rng), lean, _level(5, hz, level, 1.0, rng)))
    assert _feed(_tracker(), trace, hz) == []


def test_simulated_leans_and_vibrations_without_movements_give_no_event() -> None:
    dev = _device(80.0, unit_g=180.0, seed=11, vibration_rate_per_h=60.0, lean_rate_per_h=60.0)
    events = _run_device(dev, _tracker(180.0), 20 * 60_000, batch_ms=10_000)
    assert len(dev.disturbances) > 20
    assert events == []


def test_drift_and_creep_over_hours_are_tracked_not_reported() -> None:
    dev = _device(10.0, unit_g=20.0, seed=2, creep_g_per_h=20.0, temp_drift_g=3.0)
    tracker = _tracker(20.0)
    assert _run_device(dev, tracker, 4 * 3_600_000, batch_ms=60_000) == []
    assert tracker.stable_gross_g is not None
    assert tracker.stable_gross_g - (TARE_G + 20 * 20.0) > 60.0  # it followed 80 g of drift


# -- ambiguity -----------------------------------------------------------------------------------


def _step_events(
    before_g: float,
    after_g: float,
    unit_g: float,
    hz: float = 80.0,
) -> list[WeightEvent]:
    rng = np.random.default_rng(9)
    trace = np.concatenate(
        (
            _level(5, hz, before_g, 0.5, rng),
            _hand(hz, before_g, after_g, 0.5, rng),
            _level(5, hz, after_g, 0.5, rng),
        )
    )
    return _feed(_tracker(unit_g), trace, hz)


def test_change_that_is_not_whole_units_is_ambiguous_with_low_confidence() -> None:
    (ev,) = _step_events(TARE_G + 5000.0, TARE_G + 5000.0 - 1400.0, 1000.0)
    assert (ev.kind, ev.units, ev.ambiguous) == (WeightEventKind.PICK, 1, True)
    assert ev.confidence <= 0.5


def test_foreign_object_under_half_a_unit_is_an_ambiguous_zero_unit_restock() -> None:
    (ev,) = _step_events(TARE_G + 5000.0, TARE_G + 5000.0 + 300.0, 1000.0)
    assert (ev.kind, ev.units, ev.ambiguous) == (WeightEventKind.RESTOCK, 0, True)
    assert ev.delta_g == pytest.approx(300.0, abs=2.0)


def test_foreign_object_moves_the_zero_not_the_count() -> None:
    rng = np.random.default_rng(9)
    hz, before = 80.0, TARE_G + 5400.0  # 5.4 units of 1000 g: 300 g more would round up
    trace = np.concatenate(
        (
            _level(5, hz, before, 0.5, rng),
            _hand(hz, before, before + 300.0, 0.5, rng),
            _level(5, hz, before + 300.0, 0.5, rng),
        )
    )
    tracker = _tracker(1000.0)
    (ev,) = _feed(tracker, trace, hz)
    assert (ev.units, ev.ambiguous) == (0, True)
    assert tracker.units == 5


def test_drift_of_half_a_unit_never_changes_the_count() -> None:
    rng = np.random.default_rng(10)
    hz, minutes = 10.0, 40
    t_h = np.arange(round(minutes * 60 * hz)) / hz / 3600.0
    trace = TARE_G + 17 * 20.0 - 18.0 * t_h + rng.normal(0.0, 1.0, t_h.size)  # -12 g in all
    tracker = _tracker(20.0)
    assert _feed(tracker, trace, hz, batch_s=30.0) == []
    assert tracker.stable_gross_g is not None
    assert tracker.stable_gross_g - (TARE_G + 17 * 20.0) < -10.0  # it followed the drift
    assert tracker.units == 17


def test_change_within_the_noise_is_no_event() -> None:
    assert _step_events(TARE_G + 5000.0, TARE_G + 5001.0, 1000.0) == []


# -- state, silence and gaps ---------------------------------------------------------------------


def test_stock_is_unknown_until_the_first_stable_level_then_counted() -> None:
    rng = np.random.default_rng(1)
    tracker = _tracker(55.0)
    assert (tracker.state, tracker.units, tracker.stable_gross_g) == (
        ScaleState.UNKNOWN,
        None,
        None,
    )
    _feed(tracker, _level(3, 80.0, TARE_G + 12 * 55.0 + 4.0, 1.0, rng), 80.0)
    assert tracker.state is ScaleState.STABLE
    assert tracker.units == 12
    assert tracker.stable_gross_g == pytest.approx(TARE_G + 12 * 55.0 + 4.0, abs=1.0)


def test_silent_scale_is_unknown_and_same_weight_after_is_no_event() -> None:
    rng = np.random.default_rng(2)
    tracker = _tracker()
    _feed(tracker, _level(5, 10.0, TARE_G + 550.0, 1.0, rng), 10.0)
    tracker.mark_silent(7_000)
    assert (tracker.state, tracker.units) == (ScaleState.UNKNOWN, None)
    events = _feed(tracker, _level(5, 10.0, TARE_G + 551.0, 1.0, rng), 10.0, t0_ms=600_000)
    assert events == []
    assert (tracker.state, tracker.units) == (ScaleState.STABLE, 10)


def test_whole_units_gone_across_a_gap_are_a_clean_pick() -> None:
    rng = np.random.default_rng(3)
    tracker = _tracker()
    _feed(tracker, _level(5, 10.0, TARE_G + 550.0, 1.0, rng), 10.0)
    (ev,) = _feed(tracker, _level(5, 10.0, TARE_G + 440.0, 1.0, rng), 10.0, t0_ms=60_000)
    assert (ev.kind, ev.units, ev.ambiguous, ev.across_gap) == (
        WeightEventKind.PICK,
        2,
        False,
        True,
    )
    assert ev.started_ms == 5_000  # the last moment the scale was observed
    assert tracker.units == 8


def test_odd_change_across_a_gap_is_ambiguous() -> None:
    rng = np.random.default_rng(4)
    tracker = _tracker()
    _feed(tracker, _level(5, 10.0, TARE_G + 550.0, 1.0, rng), 10.0)
    (ev,) = _feed(tracker, _level(5, 10.0, TARE_G + 470.0, 1.0, rng), 10.0, t0_ms=60_000)
    assert ev.ambiguous and ev.across_gap


def test_gap_makes_the_state_unknown_until_stable_again() -> None:
    rng = np.random.default_rng(5)
    tracker = _tracker()
    _feed(tracker, _level(5, 80.0, TARE_G + 550.0, 1.0, rng), 80.0)
    tracker.feed(30_000, 80.0, _level(0.25, 80.0, TARE_G + 550.0, 1.0, rng))
    assert tracker.state is ScaleState.UNKNOWN


def test_overlapping_batch_is_ignored() -> None:
    rng = np.random.default_rng(6)
    tracker = _tracker()
    _feed(tracker, _level(5, 80.0, TARE_G + 550.0, 1.0, rng), 80.0)
    assert tracker.feed(2_000, 80.0, _level(1, 80.0, TARE_G, 1.0, rng)) == []
    assert (tracker.dropped_batches, tracker.units) == (1, 10)


@pytest.mark.parametrize("grams", [[1.0, math.nan], [[1.0, 2.0]]])
def test_bad_batches_raise_value_error(grams: object) -> None:
    with pytest.raises(ValueError, match="finite"):
        _tracker().feed(0, 10.0, grams)  # type: ignore[arg-type]


def test_bad_rate_raises_value_error() -> None:
    with pytest.raises(ValueError, match="hz"):
        _tracker().feed(0, 0.0, [1.0])


# -- noise, snapshots and batching ---------------------------------------------------------------


@pytest.mark.parametrize("noise_g", [0.3, 2.0])
def test_noise_estimate_learns_the_scale_from_a_wrong_hint(noise_g: float) -> None:
    rng = np.random.default_rng(8)
    tracker = _tracker(noise_hint_g=1.0)
    _feed(tracker, _level(120, 80.0, TARE_G + 550.0, noise_g, rng), 80.0)
    assert tracker.noise_g == pytest.approx(noise_g, rel=0.15)


def _scenario(hz: float) -> np.ndarray:
    dev = _device(hz, seed=21)
    dev.change_units(8_000, -2)
    dev.change_units(20_000, 3)
    return np.asarray(dev.samples(0, 32_000))


def test_snapshot_restore_mid_motion_gives_the_same_events_as_no_restart() -> None:
    hz = 80.0
    trace = _scenario(hz)
    cut = round(9.5 * hz)  # inside the first hand motion
    cut_ms = round(cut * 1000 / hz)
    never_stopped = _tracker()
    whole = _feed(never_stopped, trace[:cut], hz)
    whole += _feed(never_stopped, trace[cut:], hz, t0_ms=cut_ms)
    first = _tracker()
    part = _feed(first, trace[:cut], hz)
    snap = json.loads(json.dumps(first.snapshot()))
    resumed = ScaleTracker.restore(ScaleConfig(unit_weight_g=55.0, tare_g=TARE_G), snap)
    rest = _feed(resumed, trace[cut:], hz, t0_ms=cut_ms)
    assert part + rest == whole
    assert resumed.snapshot() == never_stopped.snapshot()
    assert [(e.kind, e.units) for e in whole] == [("pick", 2), ("restock", 3)]


def test_version_1_snapshot_still_loads_with_the_zero_at_the_tare() -> None:
    tracker = _tracker()
    _feed(tracker, _level(5, 10.0, TARE_G + 12 * 55.0 + 20.0, 1.0, np.random.default_rng(7)), 10.0)
    snap = tracker.snapshot()
    v1 = {k: v for k, v in snap.items() if k not in ("zero_g", "diff_sq_g2", "diff_n")}
    resumed = ScaleTracker.restore(ScaleConfig(55.0, TARE_G), {**v1, "v": 1})
    assert (resumed.state, resumed.units) == (ScaleState.STABLE, 12)
    assert resumed.noise_g == tracker.noise_g


def test_restore_rejects_a_malformed_snapshot() -> None:
    snap = _tracker().snapshot()
    with pytest.raises(ValueError, match="snapshot"):
        ScaleTracker.restore(ScaleConfig(55.0, TARE_G), {**snap, "noise_var_g2": "x"})
    with pytest.raises(ValueError, match="version"):
        ScaleTracker.restore(ScaleConfig(55.0, TARE_G), {**snap, "v": 99})


@pytest.mark.parametrize("batch_s", [0.25, 3.0, 32.0])
def test_events_do_not_depend_on_batch_size(batch_s: float) -> None:
    hz = 10.0
    trace = _scenario(hz)
    one_second = _feed(_tracker(), trace, hz)
    other = _feed(_tracker(), trace, hz, batch_s=batch_s)
    assert [(e.kind, e.units) for e in other] == [(e.kind, e.units) for e in one_second]
    for a, b in zip(other, one_second, strict=True):  # thresholds move with the noise estimate
        assert abs(a.ts_ms - b.ts_ms) <= 500
        assert a.delta_g == pytest.approx(b.delta_g, abs=1.0)


def test_list_input_works_like_arrays() -> None:
    trace = _scenario(10.0)
    as_list = _tracker()
    events = []
    for k in range(0, trace.size, 10):
        events += as_list.feed(k * 100, 10.0, [float(x) for x in trace[k : k + 10]])
    assert events == _feed(_tracker(), trace, 10.0)


def _cut(trace: np.ndarray, sizes: list[int]) -> list[tuple[int, np.ndarray]]:
    """(first sample index, samples) batches of the given sizes, cycled until the trace ends."""
    out, k, i = [], 0, 0
    while k < trace.size:
        out.append((k, trace[k : k + sizes[i % len(sizes)]]))
        k += sizes[i % len(sizes)]
        i += 1
    return out


@pytest.mark.parametrize(
    ("hz", "sizes"),
    [(10.0, [10]), (10.0, [3, 7, 1, 12]), (80.0, [20]), (80.0, [5, 31, 80, 17, 2])],
)
def test_quiet_fast_path_is_bit_identical_to_the_numpy_path(
    hz: float, sizes: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    dev = _device(
        hz, seed=31, creep_g_per_h=15.0, vibration_rate_per_h=120.0, lean_rate_per_h=120.0
    )
    for t_ms, units in ((20_000, -2), (50_000, 3), (51_000, -1), (90_000, 5)):
        dev.change_units(t_ms, units)
    batches = _cut(np.asarray(dev.samples(0, 150_000)), sizes)
    fast, slow = _tracker(), _tracker()
    fast_events, slow_events = [], []
    for k, grams in batches:
        fast_events += fast.feed(round(k * 1000 / hz), hz, grams)
        with monkeypatch.context() as m:
            m.setattr(ingest.weight, "_QUIET_MAX", 0)
            slow_events += slow.feed(round(k * 1000 / hz), hz, grams)
        assert fast.snapshot() == slow.snapshot()
    assert fast_events == slow_events
    assert [(e.kind.value, e.units) for e in fast_events][:2] == [("pick", 2), ("restock", 2)]


# -- baseline ------------------------------------------------------------------------------------


def test_baseline_counts_a_clean_pick() -> None:
    dev = _device(80.0, unit_g=180.0, noise_g=0.5, seed=4)
    dev.change_units(10_000, -2)
    baseline = BaselineTracker(BaselineConfig(unit_weight_g=180.0, tare_g=TARE_G))
    events = []
    for t0 in range(0, 20_000, 1000):
        events += baseline.feed(t0, 80.0, dev.samples(t0, t0 + 1000))
    assert [(e.kind, e.units) for e in events] == [(WeightEventKind.PICK, 2)]
