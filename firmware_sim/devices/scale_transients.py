"""Short mechanical transients on a load-cell shelf (grams, ms): PURE, seeded by the caller's RNG.

A transient is a contact force (a hand or a body) that ramps in, holds with tremor and ramps out,
followed by the damped ringing of the shelf once the contact is released. It adds nothing after it
ends: the permanent change of a pick or a restock is the items' steps, scheduled separately.
``stable_ms`` is when the ringing envelope, as the converter sees it (averaged over its conversion
period), falls below half the noise (the ground-truth moment the shelf is still again); ``end_ms``
is when it is negligible (1/20 of the noise).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

__all__ = ["SUBSAMPLES", "Transient", "conversion_gain", "hand_motion", "lean", "vibration"]

SUBSAMPLES = 4  # points per conversion period averaged (an HX711 integrates over the period)

_TWO_PI = 2.0 * math.pi


@dataclass(frozen=True, slots=True)
class Transient:
    start_ms: float
    release_ms: float  # the contact force is gone
    end_ms: float
    stable_ms: int
    force_g: float
    ramp_ms: float
    tremor: tuple[tuple[float, float, float], ...]  # (amplitude g, frequency Hz, phase rad)
    ring: tuple[float, float, float, float]  # (amplitude g, frequency Hz, decay ms, phase rad)

    def grams(self, t_ms: np.ndarray) -> np.ndarray:
        rise = np.clip((t_ms - self.start_ms) / self.ramp_ms, 0.0, 1.0)
        fall = np.clip((self.release_ms - t_ms) / self.ramp_ms, 0.0, 1.0)
        force = np.full(t_ms.shape, self.force_g)
        for amp, hz, phase in self.tremor:
            force += amp * np.sin(_TWO_PI * hz * t_ms / 1000.0 + phase)
        out: np.ndarray = rise * fall * force
        amp, hz, decay_ms, phase = self.ring
        after = np.maximum(t_ms - self.release_ms, 0.0)
        ringing = amp * np.exp(-after / decay_ms) * np.sin(_TWO_PI * hz * after / 1000.0 + phase)
        out += np.where(t_ms >= self.release_ms, ringing, 0.0)
        return out


def hand_motion(
    rng: np.random.Generator, ts_ms: float, moved_g: Sequence[float], noise_g: float, hz: float
) -> tuple[Transient, list[float]]:
    """A hand that presses, takes or puts the items one by one, and lets go.

    Returns the transient and, for each moved item, the time its weight starts to change.
    """
    step_times: list[float] = []
    t = ts_ms + rng.uniform(200.0, 500.0)
    for _ in moved_g:
        step_times.append(t)
        t += rng.uniform(250.0, 700.0)
    release_ms = t + rng.uniform(150.0, 500.0)
    force_g = rng.uniform(20.0, 300.0)
    ring_g = rng.uniform(0.2, 0.6) * force_g + 0.05 * abs(sum(moved_g))
    return _contact(rng, ts_ms, release_ms, force_g, ring_g, noise_g, hz), step_times


def lean(rng: np.random.Generator, ts_ms: float, noise_g: float, hz: float) -> Transient:
    """Someone rests on the shelf for 1 to 6 s, then lets go: no net change.

    Besides the hand tremor the force sways slowly (0.3 to 1.2 Hz, 5 % of it) with the body.
    """
    force_g = rng.uniform(100.0, 1500.0)
    release_ms = ts_ms + rng.uniform(1000.0, 6000.0)
    ring_g = rng.uniform(0.2, 0.5) * force_g
    contact = _contact(rng, ts_ms, release_ms, force_g, ring_g, noise_g, hz)
    sway = (0.05 * force_g, rng.uniform(0.3, 1.2), rng.uniform(0.0, _TWO_PI))  # postural sway
    return replace(contact, tremor=(*contact.tremor, sway))


def vibration(rng: np.random.Generator, ts_ms: float, noise_g: float, hz: float) -> Transient:
    """A bump on the gondola: a 4 to 25 Hz oscillation for 0.5 to 3 s, zero mean."""
    duration_ms = rng.uniform(500.0, 3000.0)
    shake = ((rng.uniform(5.0, 60.0), rng.uniform(4.0, 25.0), rng.uniform(0.0, _TWO_PI)),)
    ring = (rng.uniform(0.5, 3.0), rng.uniform(4.0, 25.0), rng.uniform(50.0, 150.0), 0.0)
    return _finish(ts_ms, ts_ms + duration_ms, 0.0, duration_ms / 2.0, shake, ring, noise_g, hz)


def conversion_gain(signal_hz: float, sample_hz: float) -> float:
    """Amplitude gain of averaging SUBSAMPLES points over one conversion period at signal_hz."""
    x = math.pi * signal_hz / sample_hz
    den = SUBSAMPLES * math.sin(x / SUBSAMPLES)
    return 1.0 if abs(den) < 1e-12 else abs(math.sin(x) / den)


def _contact(
    rng: np.random.Generator,
    ts_ms: float,
    release_ms: float,
    force_g: float,
    ring_g: float,
    noise_g: float,
    hz: float,
) -> Transient:
    tremor_g = 0.03 * force_g + 1.5
    tremor = tuple(
        (tremor_g * math.sqrt(2.0 / 3.0), rng.uniform(2.0, 10.0), rng.uniform(0.0, _TWO_PI))
        for _ in range(3)
    )
    ring = (ring_g, rng.uniform(5.0, 15.0), rng.uniform(80.0, 250.0), rng.uniform(0.0, _TWO_PI))
    ramp_ms = rng.uniform(80.0, 200.0)
    return _finish(ts_ms, release_ms, force_g, ramp_ms, tremor, ring, noise_g, hz)


def _finish(
    ts_ms: float,
    release_ms: float,
    force_g: float,
    ramp_ms: float,
    tremor: tuple[tuple[float, float, float], ...],
    ring: tuple[float, float, float, float],
    noise_g: float,
    hz: float,
) -> Transient:
    ring_g, ring_hz, decay_ms, _ = ring
    amp = ring_g * conversion_gain(ring_hz, hz)  # what the converter sees of the ringing
    floor_g = max(noise_g, 0.1)
    stable_ms = release_ms + decay_ms * math.log(max(amp / (0.5 * floor_g), 1.0))
    end_ms = release_ms + decay_ms * math.log(max(amp / (0.05 * floor_g), 1.0))
    return Transient(
        start_ms=ts_ms,
        release_ms=release_ms,
        end_ms=end_ms,
        stable_ms=math.ceil(stable_ms),
        force_g=force_g,
        ramp_ms=ramp_ms,
        tremor=tremor,
        ring=ring,
    )
