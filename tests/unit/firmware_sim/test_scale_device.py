"""The simulated load-cell shelf behaves like a real HX711 scale, deterministically for a seed."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_sim.devices.scale import ScaleDevice

TARE_G = 1000.0


def _quiet(
    hz: float = 80.0,
    *,
    seed: int = 1,
    noise_g: float = 1.0,
    units: int = 10,
    unit_g: float = 100.0,
    **kw: float,
) -> ScaleDevice:
    kw = {
        "vibration_rate_per_h": 0.0,
        "lean_rate_per_h": 0.0,
        "creep_g_per_h": 0.0,
        "temp_drift_g": 0.0,
        **kw,
    }
    return ScaleDevice(
        device_id="scale-1",
        hz=hz,
        tare_g=TARE_G,
        unit_weight_g=unit_g,
        units=units,
        noise_g=noise_g,
        seed=seed,
        **kw,
    )


def _stream(dev: ScaleDevice, end_ms: int, batch_ms: int = 1000) -> np.ndarray:
    return np.concatenate([dev.samples(t, t + batch_ms) for t in range(0, end_ms, batch_ms)])


@pytest.mark.parametrize(
    ("hz", "t1_ms", "n"), [(80.0, 1000, 80), (10.0, 1000, 10), (10.0, 333, 3), (80.0, 250, 20)]
)
def test_batch_length_follows_the_contract(hz: float, t1_ms: int, n: int) -> None:
    assert len(_quiet(hz).samples(0, t1_ms)) == n


def test_same_seed_same_samples_other_seed_other_samples() -> None:
    def run(seed: int) -> np.ndarray:
        dev = ScaleDevice(
            device_id="s",
            hz=10.0,
            tare_g=TARE_G,
            unit_weight_g=55.0,
            units=8,
            noise_g=1.0,
            seed=seed,
            vibration_rate_per_h=60.0,
            lean_rate_per_h=60.0,
        )
        dev.change_units(5_000, -2)
        return _stream(dev, 600_000, 10_000)

    assert np.array_equal(run(3), run(3))
    assert not np.array_equal(run(3), run(4))


def test_level_is_tare_plus_items_and_noise_has_the_configured_std() -> None:
    dev = _quiet(noise_g=1.5, units=10, unit_g=100.0, unit_cv=0.0)
    x = _stream(dev, 60_000)
    assert x.mean() == pytest.approx(TARE_G + 1000.0, abs=0.1)
    assert x.std() == pytest.approx(1.5, rel=0.05)


def test_samples_are_quantised_like_a_converter() -> None:
    x = np.asarray(_quiet(quantum_g=0.1).samples(0, 5_000))
    assert np.allclose(np.round(x / 0.1) * 0.1, x, atol=1e-9)


def test_a_pick_changes_the_level_by_the_true_item_weights_after_a_hand_transient() -> None:
    dev = _quiet(noise_g=0.5)
    dev.change_units(2_000, -3)
    x = _stream(dev, 12_000)
    (truth,) = dev.truth
    assert (truth.start_ms, truth.delta_units, dev.units) == (2_000, -3, 7)
    assert truth.delta_g == pytest.approx(-300.0, rel=0.1)
    during = x[round(2.1 * 80) : round(truth.stable_ms * 80 / 1000)]
    assert np.ptp(during) > abs(truth.delta_g)  # the hand pressed and the shelf rang
    before, after = x[: 2 * 80].mean(), x[-2 * 80 :].mean()
    assert after - before == pytest.approx(truth.delta_g, abs=0.5)
    assert 2_500 < truth.stable_ms < 6_000


def test_items_have_their_own_weights_with_the_configured_spread() -> None:
    dev = _quiet(units=0, unit_g=200.0, unit_cv=0.02)
    for k in range(300):
        dev.change_units(1_000 + 5_000 * k, 1)
    grams = np.array([t.delta_g for t in dev.truth])
    assert grams.mean() == pytest.approx(200.0, rel=0.01)
    assert grams.std() / grams.mean() == pytest.approx(0.02, rel=0.2)


def test_picks_never_take_more_than_the_shelf_holds() -> None:
    dev = _quiet(units=2)
    dev.change_units(1_000, -5)
    assert (dev.units, dev.truth[0].delta_units) == (0, -2)


def test_creep_and_temperature_drift_move_the_zero_slowly() -> None:
    dev = _quiet(noise_g=0.5, creep_g_per_h=20.0, temp_drift_g=0.0)
    x = _stream(dev, 3_600_000, 60_000)
    assert x[-800:].mean() - x[:800].mean() == pytest.approx(20.0, abs=0.5)
    wavy = _stream(
        _quiet(hz=10.0, noise_g=0.0, temp_drift_g=4.0, temp_period_s=3600.0), 3_600_000, 60_000
    )
    assert np.ptp(wavy) == pytest.approx(8.0, abs=0.5)


def test_load_creep_follows_a_step_by_a_small_fraction() -> None:
    dev = _quiet(
        noise_g=0.0, units=0, unit_g=1000.0, unit_cv=0.0, creep_fraction=0.001, creep_tau_s=60.0
    )
    dev.change_units(1_000, 10)
    x = _stream(dev, 900_000, 60_000)
    assert x[-1] - x[0] == pytest.approx(10_000.0 + 10.0, abs=0.5)  # creep: 0.1 % of 10 kg
    assert x[-1] - x[(10 * 80)] > 5.0  # ... arriving slowly after the step


def test_vibrations_and_leans_come_and_go_without_changing_the_load() -> None:
    dev = _quiet(noise_g=0.5, unit_cv=0.0, vibration_rate_per_h=120.0, lean_rate_per_h=120.0)
    x = _stream(dev, 1_800_000, 60_000)
    kinds = {kind for kind, _, _ in dev.disturbances}
    assert kinds == {"vibration", "lean"}
    assert 30 < len(dev.disturbances) < 200
    assert np.ptp(x) > 50.0
    busy = np.zeros(x.size, dtype=bool)
    for _, start_ms, stable_ms in dev.disturbances:
        busy[round(start_ms * 0.08) : round(stable_ms * 0.08) + 1] = True
    assert abs(x[~busy].mean() - (TARE_G + 1000.0)) < 0.2


def test_hx711_conversion_averages_away_a_shake_at_the_sample_rate() -> None:
    dev = _quiet(hz=10.0, noise_g=0.0, vibration_rate_per_h=0.0)
    from firmware_sim.devices.scale_transients import Transient

    shake = Transient(
        start_ms=0.0,
        release_ms=10_000.0,
        end_ms=10_000.0,
        stable_ms=10_000,
        force_g=0.0,
        ramp_ms=1.0,
        tremor=((50.0, 10.0, 0.3),),
        ring=(0.0, 1.0, 1.0, 0.0),
    )
    dev._add_transient(shake)
    x = np.asarray(dev.samples(1_000, 9_000))
    assert np.ptp(x) < 15.0  # a 100 g peak-to-peak 10 Hz shake, nearly nulled


@pytest.mark.parametrize(
    "bad", [{"hz": 0.0}, {"unit_weight_g": -1.0}, {"units": -1}, {"noise_g": -0.1}]
)
def test_nonsense_parameters_are_rejected(bad: dict[str, float]) -> None:
    args: dict[str, float] = {"hz": 10.0, "unit_weight_g": 55.0, "units": 3, "noise_g": 1.0, **bad}
    with pytest.raises(ValueError, match="hz"):
        ScaleDevice(device_id="s", tare_g=0.0, seed=1, **args)  # type: ignore[arg-type]
