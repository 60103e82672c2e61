"""Mean kinetic temperature (USP <1160>) against worked examples."""

from __future__ import annotations

import math

import pytest

from shelfsense.mkt import mean_kinetic_temperature


def test_worked_example_two_readings() -> None:
    """20 °C and 30 °C for equal times, ΔH = 83.144 kJ/mol (ΔH/R = 10 000 K):
    exp(-10000/293.15) = 1.5312e-15, exp(-10000/303.15) = 4.7232e-15, mean 3.1272e-15,
    -ln(mean) = 33.3987, 10000 / 33.3987 = 299.41 K = 26.26 °C (the arithmetic mean is 25)."""
    assert mean_kinetic_temperature([20.0, 30.0]) == pytest.approx(26.2599, abs=1e-4)


def test_cold_chain_example() -> None:
    """A cooler at 2, 4, 6, 8 and 12 °C: MKT 7.14 °C, above the 6.4 °C mean."""
    assert mean_kinetic_temperature([2.0, 4.0, 6.0, 8.0, 12.0]) == pytest.approx(7.1363, abs=1e-4)


def test_constant_temperature_is_its_own_mkt() -> None:
    assert mean_kinetic_temperature([4.5] * 100) == pytest.approx(4.5, abs=1e-9)


def test_weights_are_time_spent() -> None:
    """Three hours at 20 °C and one at 40 °C equal four equally spaced readings."""
    weighted = mean_kinetic_temperature([20.0, 40.0], weights=[3.0, 1.0])
    assert weighted == pytest.approx(mean_kinetic_temperature([20.0, 20.0, 20.0, 40.0]))
    assert weighted == pytest.approx(29.6279, abs=1e-4)


def test_a_lower_activation_energy_weights_peaks_less() -> None:
    low = mean_kinetic_temperature([20.0, 30.0], delta_h_kj_mol=40.0)
    assert 25.0 < low < mean_kinetic_temperature([20.0, 30.0])


def test_no_float_underflow_for_deep_frozen_readings() -> None:
    assert math.isfinite(mean_kinetic_temperature([-80.0, -79.0]))


@pytest.mark.parametrize(("temps", "weights"), [([], None), ([1.0], [1.0, 2.0]), ([1.0], [-1.0])])
def test_bad_input(temps: list[float], weights: list[float] | None) -> None:
    with pytest.raises(ValueError):
        mean_kinetic_temperature(temps, weights=weights)
