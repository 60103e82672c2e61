"""A physical load-cell shelf, sampled like an HX711: PURE and deterministic for a seed.

Gross grams at time t (ms) are the sum of:

- the shelf itself (``tare_g``) and every item on it, each with its own weight
  ``unit_weight_g * (1 + N(0, unit_cv))``, drawn once when the item appears;
- load creep: after a load change of ``w`` grams the cell keeps moving by ``creep_fraction * w``
  with time constant ``creep_tau_s`` (a first-order lag);
- zero drift: ``creep_g_per_h`` grams per hour, linear, plus a temperature wave of amplitude
  ``temp_drift_g`` and period ``temp_period_s`` (air conditioning cycles);
- transients that are not movements: the hand of a shopper (press force with tremor, the items
  leaving or arriving one by one, the release ringing of the shelf), vibration bursts (a trolley
  bumping the gondola) and lean-and-release episodes (someone resting on the shelf), the last two
  arriving as Poisson processes at ``vibration_rate_per_h`` and ``lean_rate_per_h``;
- white noise ``noise_g`` (std) and the converter's quantisation step ``quantum_g``.

Like an HX711, each sample integrates the transients over its conversion period (1/hz, four points
averaged), so at 10 Hz a 10 Hz shake is mostly nulled and faster ringing aliases attenuated, as on
the real converter; slow components are taken at the sample time. ``truth`` records every hand
motion: when it began, when the shelf was stable again (the transient envelope below half the
noise), and the true change in units and grams. ``disturbances`` records vibration bursts and leans.
Randomness comes from independent streams of one seed: the noise does not depend on how many motions
were scheduled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from firmware_sim.devices.scale_transients import (
    SUBSAMPLES,
    Transient,
    hand_motion,
    lean,
    vibration,
)

__all__ = ["ScaleDevice", "ScaleTruth"]


@dataclass(frozen=True, slots=True)
class ScaleTruth:
    """One hand motion as it really happened."""

    start_ms: int
    stable_ms: int  # the shelf is still again: the transient envelope is below noise / 2
    delta_units: int  # signed: negative for a pick
    delta_g: float  # the true signed change of the items' weight


class ScaleDevice:
    """One scale; ``samples`` must be called with consecutive intervals."""

    def __init__(
        self,
        *,
        device_id: str,
        hz: float,
        tare_g: float,
        unit_weight_g: float,
        units: int,
        noise_g: float,
        seed: int,
        unit_cv: float = 0.015,
        creep_g_per_h: float = 2.0,
        temp_drift_g: float = 3.0,
        vibration_rate_per_h: float = 2.0,
        lean_rate_per_h: float = 1.0,
        temp_period_s: float = 7200.0,
        creep_fraction: float = 0.0003,
        creep_tau_s: float = 600.0,
        quantum_g: float = 0.05,
    ) -> None:
        if hz <= 0 or unit_weight_g <= 0 or units < 0 or noise_g < 0 or unit_cv < 0:
            raise ValueError("hz and unit_weight_g must be > 0; units, noise_g, unit_cv >= 0")
        self.device_id = device_id
        self.hz = float(hz)
        self.tare_g = float(tare_g)
        self.unit_weight_g = float(unit_weight_g)
        self.noise_g = float(noise_g)
        self.unit_cv = float(unit_cv)
        self.creep_g_per_h = float(creep_g_per_h)
        self.temp_drift_g = float(temp_drift_g)
        self.vibration_rate_per_h = float(vibration_rate_per_h)
        self.lean_rate_per_h = float(lean_rate_per_h)
        self.temp_period_s = float(temp_period_s)
        self.creep_fraction = float(creep_fraction)
        self.creep_tau_s = float(creep_tau_s)
        self.quantum_g = float(quantum_g)
        streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]
        self._noise_rng, self._item_rng, self._hand_rng, self._env_rng = streams
        self._items: list[float] = [self._new_item() for _ in range(units)]
        self._base_g = self.tare_g + sum(self._items)  # load with every step before _steps folded
        self._steps: list[_Step] = []  # still ramping or in the future, by start time
        self._creep_g = 0.0  # current creep offset at _creep_ms
        self._creep_target_g = 0.0
        self._creep_ms: float | None = None
        self._transients: list[Transient] = []
        self._origin_ms: float | None = None
        self._next_vibration_ms = math.inf
        self._next_lean_ms = math.inf
        self._phase = float(self._env_rng.uniform(0.0, 2.0 * math.pi))
        self.truth: list[ScaleTruth] = []
        self.disturbances: list[tuple[str, int, int]] = []  # (kind, start_ms, stable_ms)

    @property
    def units(self) -> int:
        """Items on the shelf once every scheduled motion is over."""
        return len(self._items)

    def change_units(self, ts_ms: int, delta_units: int) -> None:
        """A hand takes (negative) or puts (positive) items in one motion starting at ``ts_ms``."""
        if delta_units < 0:
            take = min(-delta_units, len(self._items))
            picks = self._item_rng.choice(len(self._items), size=take, replace=False)
            moved = [-self._items[int(i)] for i in picks]
            for i in sorted((int(i) for i in picks), reverse=True):
                del self._items[i]
        else:
            moved = [self._new_item() for _ in range(delta_units)]
            self._items.extend(moved)
        motion, step_times = hand_motion(self._hand_rng, ts_ms, moved, self.noise_g, self.hz)
        self._add_transient(motion)
        self._steps.extend(_Step(t, g) for t, g in zip(step_times, moved, strict=True))
        self._steps.sort(key=lambda step: step.start_ms)
        self.truth.append(
            ScaleTruth(ts_ms, motion.stable_ms, len(moved) * _sign(delta_units), float(sum(moved)))
        )

    def samples(self, t0_ms: int, t1_ms: int) -> list[float]:
        """Gross grams for [t0, t1): ``round((t1 - t0) * hz / 1000)`` samples evenly spaced."""
        grams: list[float] = self.samples_array(t0_ms, t1_ms).tolist()
        return grams

    def samples_array(self, t0_ms: int, t1_ms: int) -> np.ndarray:
        """Same as ``samples`` as a float64 array (fast path for benchmarks)."""
        n = round((t1_ms - t0_ms) * self.hz / 1000.0)
        t_ms = t0_ms + np.arange(n, dtype=np.float64) * (1000.0 / self.hz)
        if self._origin_ms is None:
            self._start(float(t0_ms))
        self._schedule_disturbances(float(t1_ms))
        grams: np.ndarray = self._load(t_ms) + self._drift(t_ms) + self._transient_sum(t_ms)
        grams += self._noise_rng.normal(0.0, self.noise_g, n) if self.noise_g > 0 else 0.0
        if self.quantum_g > 0:
            grams = np.round(grams / self.quantum_g) * self.quantum_g
        return grams

    # -- components ---------------------------------------------------------------------------

    def _new_item(self) -> float:
        return self.unit_weight_g * (1.0 + self.unit_cv * float(self._item_rng.standard_normal()))

    def _start(self, t0_ms: float) -> None:
        self._origin_ms = t0_ms
        self._creep_ms = t0_ms
        self._next_vibration_ms = t0_ms + self._wait_ms(self.vibration_rate_per_h)
        self._next_lean_ms = t0_ms + self._wait_ms(self.lean_rate_per_h)

    def _wait_ms(self, rate_per_h: float) -> float:
        if rate_per_h <= 0:
            return math.inf
        return float(self._env_rng.exponential(3_600_000.0 / rate_per_h))

    def _schedule_disturbances(self, t1_ms: float) -> None:
        while self._next_vibration_ms < t1_ms:
            burst = vibration(self._env_rng, self._next_vibration_ms, self.noise_g, self.hz)
            self._add_disturbance("vibration", burst)
            self._next_vibration_ms += self._wait_ms(self.vibration_rate_per_h)
        while self._next_lean_ms < t1_ms:
            episode = lean(self._env_rng, self._next_lean_ms, self.noise_g, self.hz)
            self._add_disturbance("lean", episode)
            self._next_lean_ms += self._wait_ms(self.lean_rate_per_h)

    def _add_disturbance(self, kind: str, transient: Transient) -> None:
        self._add_transient(transient)
        self.disturbances.append((kind, int(transient.start_ms), transient.stable_ms))

    def _add_transient(self, transient: Transient) -> None:
        self._transients.append(transient)
        self._transients.sort(key=lambda tr: tr.start_ms)

    def _load(self, t_ms: np.ndarray) -> np.ndarray:
        """Items and tare, each step ramping over ``_STEP_RAMP_MS``, plus load creep."""
        load = np.full(t_ms.shape, self._base_g)
        creep = np.empty(t_ms.shape)
        seg_start = 0
        last_ms = float(t_ms[-1]) if t_ms.size else -math.inf
        for step in [s for s in self._steps if s.start_ms <= last_ms]:
            load += step.grams * np.clip((t_ms - step.start_ms) / _STEP_RAMP_MS, 0.0, 1.0)
            if not step.crept:
                cut = int(np.searchsorted(t_ms, step.start_ms))
                self._creep_segment(t_ms, creep, seg_start, cut)
                self._creep_target_g += self.creep_fraction * step.grams
                step.crept, seg_start = True, cut
            if last_ms >= step.start_ms + _STEP_RAMP_MS:  # fully ramped: part of the base load
                self._base_g += step.grams
                self._steps.remove(step)
        self._creep_segment(t_ms, creep, seg_start, t_ms.size)
        return load + creep

    def _creep_segment(self, t_ms: np.ndarray, out: np.ndarray, lo: int, hi: int) -> None:
        """First-order lag of the creep toward its target over t_ms[lo:hi]; advances the state."""
        if hi <= lo or self._creep_ms is None:
            return
        tau_ms = self.creep_tau_s * 1000.0
        decay = np.exp(-(t_ms[lo:hi] - self._creep_ms) / tau_ms)
        out[lo:hi] = self._creep_target_g + (self._creep_g - self._creep_target_g) * decay
        self._creep_g = float(out[hi - 1])
        self._creep_ms = float(t_ms[hi - 1])

    def _drift(self, t_ms: np.ndarray) -> np.ndarray:
        assert self._origin_ms is not None
        hours = (t_ms - self._origin_ms) / 3_600_000.0
        wave = np.sin(2.0 * math.pi * hours * 3600.0 / self.temp_period_s + self._phase)
        return self.creep_g_per_h * hours + self.temp_drift_g * (wave - math.sin(self._phase))

    def _transient_sum(self, t_ms: np.ndarray) -> np.ndarray:
        out = np.zeros(t_ms.shape)
        if not t_ms.size:
            return out
        last_ms = float(t_ms[-1])
        period_ms = 1000.0 / self.hz
        offsets_ms = [period_ms * (k + 0.5) / SUBSAMPLES for k in range(SUBSAMPLES)]
        for tr in self._transients:
            if tr.start_ms > last_ms:
                break
            lo, hi = np.searchsorted(t_ms, (tr.start_ms, tr.end_ms + period_ms))
            for offset_ms in offsets_ms:  # the converter integrates over its conversion period
                out[lo:hi] += tr.grams(t_ms[lo:hi] - offset_ms) / len(offsets_ms)
        self._transients = [tr for tr in self._transients if tr.end_ms + period_ms > last_ms]
        return out


_STEP_RAMP_MS = 120.0


@dataclass(slots=True)
class _Step:
    start_ms: float
    grams: float
    crept: bool = False  # its creep target has been applied


def _sign(x: int) -> int:
    return -1 if x < 0 else 1
