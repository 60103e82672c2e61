"""The cooler probe: first-order thermal lag towards a setpoint, on a fixed sampling grid."""

from __future__ import annotations

import math

from firmware_sim.devices.probe import ProbeDevice

T0 = 1_763_719_200_000


def _probe(**kw: float) -> ProbeDevice:
    return ProbeDevice(device_id="probe-1", seed=3, setpoint_c=3.0, tau_s=300.0, **kw)


def test_the_air_follows_a_new_setpoint_with_the_thermal_lag() -> None:
    p = _probe(noise_c=0.0)
    p.readings(T0, T0 + 60_000)
    p.set_setpoint(T0 + 60_000, 12.0)
    assert p.temp_at(T0 + 60_000) == 3.0
    expected = 12.0 - 9.0 * math.exp(-1.0)  # one time constant later
    assert abs(p.temp_at(T0 + 360_000) - expected) < 1e-9
    assert abs(p.temp_at(T0 + 60_000 + 3_000_000) - 12.0) < 0.01


def test_readings_sit_on_the_grid_and_tile_without_gaps_or_repeats() -> None:
    p = _probe(period_s=10.0)
    ts = [r.ts for t in range(0, 120_000, 7_000) for r in p.readings(T0 + t, T0 + t + 7_000)]
    assert ts == list(range(T0, T0 + 126_000, 10_000))


def test_noise_humidity_and_battery_stay_plausible() -> None:
    p = _probe(noise_c=0.1)
    readings = p.readings(T0, T0 + 3_600_000)
    temps = [r.temp_c for r in readings]
    assert abs(sum(temps) / len(temps) - 3.0) < 0.05 and max(temps) - min(temps) > 0.1
    assert all(0 <= r.rh <= 100 and 2.9 < r.batt_v <= 3.0 for r in readings)


def test_the_same_seed_reads_the_same() -> None:
    a = _probe(noise_c=0.1).readings(T0, T0 + 600_000)
    b = _probe(noise_c=0.1).readings(T0, T0 + 600_000)
    assert a == b
