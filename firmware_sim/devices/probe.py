"""A cooler probe (temperature, humidity, battery): PURE and deterministic for a seed.

The air in the cooler follows its thermostat's setpoint with a first-order lag:

    T(t) = S + (T(t0) - S) * exp(-(t - t0) / tau_s)

The scenario changes the setpoint (a door left open, a compressor failure, the repair);
``set_setpoint`` is exact at its ``ts_ms``. The probe samples every ``period_s`` on a grid fixed
at its first interval, adding Gaussian noise (``noise_c``) and rounding to 0.01 °C. Relative
humidity (percent, clipped to [0, 100]) rises ``rh_per_c`` per degree above the nominal
setpoint; the battery drains linearly (``drain_v_per_day``) and reads in 10 mV steps.
``readings`` must be called with consecutive intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["ProbeDevice", "ProbeReading"]


@dataclass(frozen=True, slots=True)
class ProbeReading:
    ts: int
    temp_c: float
    rh: float
    batt_v: float

    def to_json(self) -> dict[str, float | int]:
        return {"ts": self.ts, "temp_c": self.temp_c, "rh": self.rh, "batt_v": self.batt_v}


class ProbeDevice:
    def __init__(
        self,
        *,
        device_id: str,
        seed: int,
        setpoint_c: float = 3.0,
        tau_s: float = 300.0,
        noise_c: float = 0.05,
        period_s: float = 10.0,
        rh_pct: float = 65.0,
        rh_per_c: float = 1.5,
        rh_noise_pct: float = 0.5,
        batt_v: float = 3.0,
        drain_v_per_day: float = 0.002,
    ) -> None:
        if tau_s <= 0 or period_s <= 0 or noise_c < 0 or rh_noise_pct < 0:
            raise ValueError("tau_s and period_s must be > 0; noise >= 0")
        self.device_id = device_id
        self.tau_s = tau_s
        self.noise_c = noise_c
        self.period_ms = round(period_s * 1000)
        self.rh_pct = rh_pct
        self.rh_per_c = rh_per_c
        self.rh_noise_pct = rh_noise_pct
        self.batt_v = batt_v
        self.drain_v_per_day = drain_v_per_day
        self.nominal_c = setpoint_c
        self.setpoint_c = setpoint_c
        self._temp_c = setpoint_c  # true air temperature at _at_ms
        self._at_ms: int | None = None
        self._origin_ms: int | None = None
        self._rng = np.random.default_rng(seed)

    def temp_at(self, ts_ms: int) -> float:
        """True (noise-free) temperature at ``ts_ms`` (not before the last state change)."""
        if self._at_ms is None:
            return self._temp_c
        dt_s = max(0, ts_ms - self._at_ms) / 1000.0
        return self.setpoint_c + (self._temp_c - self.setpoint_c) * math.exp(-dt_s / self.tau_s)

    def set_setpoint(self, ts_ms: int, temp_c: float) -> None:
        self._advance(ts_ms)
        self.setpoint_c = temp_c

    def readings(self, t0_ms: int, t1_ms: int) -> list[ProbeReading]:
        """Samples on the probe's grid in [t0, t1), in time order."""
        if self._origin_ms is None:
            self._origin_ms = t0_ms
            self._at_ms = t0_ms if self._at_ms is None else self._at_ms
        first = t0_ms + (-(t0_ms - self._origin_ms) % self.period_ms)
        return [self._sample(ts) for ts in range(first, t1_ms, self.period_ms)]

    def _sample(self, ts_ms: int) -> ProbeReading:
        true_c = self.temp_at(ts_ms)
        temp_c = true_c + float(self._rng.normal(0.0, self.noise_c)) if self.noise_c else true_c
        rh = self.rh_pct + self.rh_per_c * (true_c - self.nominal_c)
        rh += float(self._rng.normal(0.0, self.rh_noise_pct)) if self.rh_noise_pct else 0.0
        assert self._origin_ms is not None
        days = (ts_ms - self._origin_ms) / 86_400_000.0
        batt = self.batt_v - self.drain_v_per_day * days
        return ProbeReading(
            ts_ms, round(temp_c, 2), round(min(max(rh, 0.0), 100.0), 1), round(batt, 2)
        )

    def _advance(self, ts_ms: int) -> None:
        if self._at_ms is None:
            self._at_ms = ts_ms
            return
        self._temp_c = self.temp_at(ts_ms)
        self._at_ms = max(self._at_ms, ts_ms)
