"""The simulated devices of a site, built from its site file and the scenario's physics.

Each ``SimDevice`` turns the true state of the store over one frame interval ``[t0, t1)`` into
the body of a device-bus frame (``shelfsense.devbus``), or None when the device is down (the
frame is then missing: the device was not observing). Device seeds derive from the run's seed
and the device's position in the site file, so one device's draws never shift another's.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from firmware_sim.devices.probe import ProbeDevice, ProbeReading
from firmware_sim.devices.rfid_reader import ReaderDevice
from firmware_sim.devices.scale import ScaleDevice
from firmware_sim.scenario import Scenario
from firmware_sim.store import SimStore
from shelfsense.site import EnvDevice, PortalAntenna, RfidDevice, WeightDevice
from shelfsense.wire import StreamKind

Body = dict[str, Any]


class SimDevice(Protocol):
    device_id: str
    kind: StreamKind
    frame_ms: int

    def frame(self, t0_ms: int, t1_ms: int, store: SimStore) -> Body | None: ...


def antenna_keys(device: RfidDevice) -> dict[int, str]:
    """Port -> location key; a portal side is ``"LOCATION#side"``."""
    return {
        port: f"{t.location}#{t.side}" if isinstance(t, PortalAntenna) else t
        for port, t in device.antennas.items()
    }


class RfidSim:
    kind = StreamKind.RFID

    def __init__(self, reader: ReaderDevice, frame_ms: int) -> None:
        self.device_id = reader.device_id
        self.frame_ms = frame_ms
        self.reader = reader
        self._keys = sorted(reader.watched)

    def frame(self, t0_ms: int, t1_ms: int, store: SimStore) -> Body | None:
        tags_at = {epc: key for key in self._keys for epc in store.epcs_at(key)}
        f = self.reader.frame(t0_ms, t1_ms, tags_at)
        if f is None:
            return None
        cols = {"epc": f.epc, "ant": f.ant, "rssi": f.rssi, "ts": f.ts, "n": f.n}
        return {"t0": f.t0_ms, "t1": f.t1_ms, "ants": f.ants, "cols": cols}


class ScaleSim:
    kind = StreamKind.WEIGHT

    def __init__(self, scale: ScaleDevice, location: str, frame_ms: int) -> None:
        if (frame_ms * scale.hz) % 1000:
            raise ValueError(f"a weight frame of {frame_ms} ms holds no whole number of samples")
        self.device_id = scale.device_id
        self.frame_ms = frame_ms
        self.scale = scale
        self.location = location

    def frame(self, t0_ms: int, t1_ms: int, store: SimStore) -> Body | None:
        return {
            "t0": t0_ms,
            "t1": t1_ms,
            "hz": self.scale.hz,
            "g": self.scale.samples(t0_ms, t1_ms),
        }


class ProbeSim:
    kind = StreamKind.ENV

    def __init__(self, probe: ProbeDevice, device: EnvDevice, frame_ms: int) -> None:
        self.device_id = probe.device_id
        self.frame_ms = frame_ms
        self.probe = probe
        self.location = device.location
        self.range_c = device.temp_c
        self._pending: list[ProbeReading] = []  # sampled before a setpoint change in this frame
        self._sampled_ms: int | None = None  # readings are taken up to here

    def set_setpoint(self, ts_ms: int, temp_c: float) -> None:
        """Sample up to ``ts_ms`` under the old setpoint first, so readings stay exact."""
        if self._sampled_ms is not None and ts_ms > self._sampled_ms:
            self._pending += self.probe.readings(self._sampled_ms, ts_ms)
            self._sampled_ms = ts_ms
        self.probe.set_setpoint(ts_ms, temp_c)

    def start(self, t0_ms: int) -> None:
        self._sampled_ms = t0_ms

    def frame(self, t0_ms: int, t1_ms: int, store: SimStore) -> Body | None:
        since = t0_ms if self._sampled_ms is None else self._sampled_ms
        readings = [*self._pending, *self.probe.readings(since, t1_ms)]
        self._pending, self._sampled_ms = [], t1_ms
        return {"t0": t0_ms, "t1": t1_ms, "readings": [r.to_json() for r in readings]}

    def in_range(self, ts_ms: int) -> bool:
        if self.range_c is None:
            return True
        lo, hi = self.range_c
        return lo <= self.probe.temp_at(ts_ms) <= hi


def device_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def build_fleet(scenario: Scenario, store: SimStore, seed: int) -> list[SimDevice]:
    """One simulated device per device of the site file, in file order."""
    out: list[SimDevice] = []
    for i, dev in enumerate(scenario.site.devices):
        dseed = device_seed(seed, i)
        if isinstance(dev, RfidDevice):
            out.append(RfidSim(_reader(scenario, dev, dseed), scenario.step_ms))
        elif isinstance(dev, WeightDevice):
            out.append(
                ScaleSim(
                    _scale(scenario, dev, store, dseed), dev.location, scenario.frame_ms.weight
                )
            )
        else:
            out.append(ProbeSim(_probe(scenario, dev, dseed), dev, scenario.frame_ms.env))
    return out


def _reader(scenario: Scenario, dev: RfidDevice, seed: int) -> ReaderDevice:
    ph = scenario.physics
    fades = 1.0 if ph.fades else 0.0
    return ReaderDevice(
        device_id=dev.id,
        antennas=antenna_keys(dev),
        seed=seed,
        rounds_per_s=ph.rounds_per_s,
        read_prob=ph.read_prob,
        cross_read_rate=ph.cross_read_rate,
        adjacency=scenario.adjacency,
        burst_fade_rate_per_h=4.0 * fades,
        tag_fade_rate_per_h=6.0 * fades,
        outage_rate_per_h=ph.reader_outages_per_h,
    )


def _scale(scenario: Scenario, dev: WeightDevice, store: SimStore, seed: int) -> ScaleDevice:
    ph = scenario.physics
    product = scenario.site.product(dev.sku)
    assert product is not None and product.unit_weight_g is not None  # load_site checked it
    noisy = 1.0 if ph.scale_disturbances else 0.0
    return ScaleDevice(
        device_id=dev.id,
        hz=ph.scale_hz,
        tare_g=dev.tare_g,
        unit_weight_g=product.unit_weight_g,
        units=store.units[dev.location],
        noise_g=ph.scale_noise_g,
        seed=seed,
        vibration_rate_per_h=2.0 * noisy,
        lean_rate_per_h=1.0 * noisy,
    )


def _probe(scenario: Scenario, dev: EnvDevice, seed: int) -> ProbeDevice:
    ph = scenario.physics
    lo, hi = dev.temp_c if dev.temp_c is not None else (2.0, 4.0)
    return ProbeDevice(
        device_id=dev.id,
        seed=seed,
        setpoint_c=round(lo + 0.6 * (hi - lo), 2),
        tau_s=ph.probe_tau_s,
        noise_c=ph.probe_noise_c,
        period_s=ph.probe_period_s,
    )
