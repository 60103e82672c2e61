"""Properties of ScaleTracker over generated traces (hypothesis; numpy noise from drawn seeds)."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ingest.weight import ScaleConfig, ScaleState, ScaleTracker, WeightEvent, WeightEventKind

TARE_G = 1200.0
unit_weights = st.sampled_from([20.0, 55.0, 180.0, 410.0, 1000.0])
rates = st.sampled_from([10.0, 80.0])
seeds = st.integers(0, 2**32 - 1)


def _feed(tracker: ScaleTracker, grams: np.ndarray, hz: float, batch: int) -> list[WeightEvent]:
    events: list[WeightEvent] = []
    for k in range(0, grams.size, batch):
        events += tracker.feed(round(k * 1000 / hz), hz, grams[k : k + batch])
    return events


@settings(max_examples=40, deadline=None)
@given(
    unit_g=unit_weights,
    hz=rates,
    noise_g=st.floats(0.1, 2.0),
    drift_g_per_h=st.floats(-20.0, 20.0),
    wave_g=st.floats(0.0, 3.0),
    minutes=st.integers(10, 120),
    seed=seeds,
)
# -9.6 g of drift in 34 min is half a 20 g unit: zero tracking must carry the count with it
@example(unit_g=20.0, hz=10.0, noise_g=1.0, drift_g_per_h=-17.0, wave_g=0.0, minutes=34, seed=0)
# 0.1 g noise at 80 Hz (a 0.23 g band) and 30 s batches: the reference must follow the drift
# within a batch, not only at its end
@example(
    unit_g=410.0,
    hz=80.0,
    noise_g=0.10674780134304346,
    drift_g_per_h=12.708102221581989,
    wave_g=0.05805133950530195,
    minutes=82,
    seed=282841612,
)
def test_stable_trace_with_drift_up_to_20_g_per_hour_yields_no_movement(
    unit_g: float,
    hz: float,
    noise_g: float,
    drift_g_per_h: float,
    wave_g: float,
    minutes: int,
    seed: int,
) -> None:
    """Linear drift plus a slow wave; the total slope never exceeds 20 g/h."""
    rng = np.random.default_rng(seed)
    t_h = np.arange(round(minutes * 60 * hz)) / hz / 3600.0
    period_h = 3.0
    wave_slope = 2 * np.pi * wave_g / period_h
    drift = drift_g_per_h * (1.0 - wave_slope / 20.0 if wave_slope < 20.0 else 0.0)
    level = TARE_G + 17 * unit_g + drift * t_h + wave_g * np.sin(2 * np.pi * t_h / period_h)
    grams = level + rng.normal(0.0, noise_g, t_h.size)
    tracker = ScaleTracker(ScaleConfig(unit_weight_g=unit_g, tare_g=TARE_G))
    assert _feed(tracker, grams, hz, batch=round(30 * hz)) == []
    assert tracker.state is ScaleState.STABLE
    assert tracker.units == 17


@settings(max_examples=40, deadline=None)
@given(
    unit_g=unit_weights,
    hz=rates,
    noise_g=st.floats(0.1, 1.0),
    delta_units=st.integers(-12, 12).filter(lambda k: k != 0),
    seed=seeds,
)
# the first 1 s batch of 10 samples happens to look 2.5x quieter than the scale: a noise estimate
# taken at its word held the shelf in motion for good
@example(unit_g=20.0, hz=10.0, noise_g=1.0, delta_units=8, seed=7532)
@example(unit_g=20.0, hz=80.0, noise_g=0.3312823454534102, delta_units=9, seed=477942034)
def test_clean_step_of_whole_units_is_counted_exactly(
    unit_g: float, hz: float, noise_g: float, delta_units: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    before = TARE_G + 20 * unit_g
    items = unit_g * (1.0 + 0.015 * rng.standard_normal(abs(delta_units)))
    after = before + np.sign(delta_units) * items.sum()
    n_before, n_motion, n_after = round(6 * hz), round(1.2 * hz), round(4 * hz)
    motion = np.linspace(before, after, n_motion) + 60.0 * np.sin(np.linspace(0, 9, n_motion))
    grams = np.concatenate((np.full(n_before, before), motion, np.full(n_after, after)))
    grams += rng.normal(0.0, noise_g, grams.size)
    tracker = ScaleTracker(ScaleConfig(unit_weight_g=unit_g, tare_g=TARE_G))
    events = _feed(tracker, grams, hz, batch=round(hz))
    assert len(events) == 1
    (ev,) = events
    assert ev.kind is (WeightEventKind.RESTOCK if delta_units > 0 else WeightEventKind.PICK)
    assert ev.units == abs(delta_units)
    assert not ev.ambiguous
    assert tracker.units == 20 + delta_units


@settings(max_examples=25, deadline=None)
@given(hz=rates, seed=seeds, cuts=st.lists(st.integers(1, 400), min_size=1, max_size=30))
# a first batch of 12 samples learns the noise from 2 differences (7x too low)
@example(hz=10.0, seed=986859, cuts=[12])
# batches of 5 to 18 samples at 80 Hz: bootstrapping the noise from 14 of them (3x too low)
@example(
    hz=80.0,
    seed=473639462,
    cuts=[5, 14, 3, 4, 18, 16, 13, 14, 4, 17, 8, 6, 6, 12, 10, 5, 16, 9, 10, 12],
)
# a first batch of 13 samples learned the noise from 3 differences
@example(hz=10.0, seed=934473911, cuts=[13, 16, 14, 17, 17, 11])
def test_any_batching_gives_the_same_movements(hz: float, seed: int, cuts: list[int]) -> None:
    rng = np.random.default_rng(seed)
    unit_g = 180.0
    levels = [TARE_G + unit_g * k for k in (10, 8, 8, 11)]
    parts = []
    for level in levels:
        parts.append(np.full(round(5 * hz), level))
        parts.append(np.linspace(level, level + 90.0, round(0.8 * hz)))  # a hand
    grams = np.concatenate(parts) + rng.normal(0.0, 0.8, sum(p.size for p in parts))
    reference = _feed(ScaleTracker(ScaleConfig(unit_g, TARE_G)), grams, hz, batch=round(hz))
    tracker = ScaleTracker(ScaleConfig(unit_g, TARE_G))
    events: list[WeightEvent] = []
    start = 0
    for size in [*cuts, grams.size]:
        if start >= grams.size:
            break
        events += tracker.feed(round(start * 1000 / hz), hz, grams[start : start + size])
        start += size
    assert [(e.kind, e.units) for e in events] == [(e.kind, e.units) for e in reference]
    assert [(e.kind.value, e.units) for e in reference] == [("pick", 2), ("restock", 3)]
