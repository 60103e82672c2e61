"""One simulated store run in event time, step by step: PURE (no I/O, no wall clock).

``begin()`` places the initial stock and returns its truth records (``place`` movements, the
initial setpoints, a first checkpoint). Each ``step()`` advances event time by the scenario's
``step_ms``: it applies every action due in ``[t0, t1)`` (in time order), hands weight-shelf
unit changes to the scales and setpoint changes to the probes, asks every device whose frame
ends at ``t1`` for its frame, notes temperature excursions and, every ``checkpoint_s``, the
true stock. ``finish()`` adds the final checkpoint. Frames of one device are in time order and
tile time (next ``t0`` = previous ``t1``) except where the device was down.

Truth timing: an action at ``ts`` changes what devices observe from the step containing ``ts``
(the error is below one step). A checkpoint at ``ts`` includes every record with ``ts`` below it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from firmware_sim.actions import Setpoint, TruthKind
from firmware_sim.fleet import Body, ProbeSim, ScaleSim, SimDevice, build_fleet
from firmware_sim.planner import Planner
from firmware_sim.scenario import Scenario
from firmware_sim.store import Record, SimStore
from shelfsense.wire import StreamKind


@dataclass(frozen=True, slots=True)
class OutFrame:
    device: str
    kind: StreamKind
    body: Body


@dataclass(frozen=True, slots=True)
class StepResult:
    t0_ms: int
    t1_ms: int
    records: list[Record]
    frames: list[OutFrame]


class Simulation:
    def __init__(self, scenario: Scenario, *, seed: int, start_ms: int) -> None:
        store_seed, plan_seed = (
            int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(2)
        )
        self.scenario = scenario
        self.seed = seed
        self.start_ms = start_ms
        self.now_ms = start_ms
        self.store = SimStore(scenario.site, seed=store_seed)
        self._planner = Planner(scenario, seed=plan_seed, start_ms=start_ms)
        self._checkpoint_ms = round(scenario.checkpoint_s * 1000)
        self._last_checkpoint_ms: int | None = None
        self.devices: list[SimDevice] = []
        self._frame_t0: dict[str, int] = {}
        self._in_range: dict[str, bool] = {}

    def begin(self) -> list[Record]:
        records: list[Record] = []
        for s in self.scenario.stock:
            records += self.store.place(self.start_ms, s.location, s.sku, s.qty)
        self.devices = build_fleet(self.scenario, self.store, self.seed)
        self._frame_t0 = {d.device_id: self.start_ms for d in self.devices}
        for probe in self._probes():
            probe.start(self.start_ms)
            self._in_range[probe.device_id] = probe.in_range(self.start_ms)
            setpoint = Setpoint(self.start_ms, probe.location, probe.probe.setpoint_c)
            records += self.store.apply(setpoint)
        records.append(self._checkpoint(self.start_ms))
        return records

    def step(self) -> StepResult:
        t0, t1 = self.now_ms, self.now_ms + self.scenario.step_ms
        records: list[Record] = []
        for action in self._planner.due(t1, self.store):
            done = self.store.apply(action)
            self._route(action, done)
            records += done
        frames = self._frames(t1)
        records += self._excursions(t1)
        if (t1 - self.start_ms) % self._checkpoint_ms == 0:
            records.append(self._checkpoint(t1))
        self.now_ms = t1
        return StepResult(t0, t1, records, frames)

    def finish(self) -> list[Record]:
        """The final checkpoint (unless the last step just wrote one)."""
        return [] if self._last_checkpoint_ms == self.now_ms else [self._checkpoint(self.now_ms)]

    def _route(self, action: Any, records: list[Record]) -> None:
        if isinstance(action, Setpoint):
            for probe in self._probes():
                if probe.location == action.location:
                    probe.set_setpoint(action.ts_ms, action.temp_c)
            return
        scales = {d.location: d for d in self.devices if isinstance(d, ScaleSim)}
        for rec in records:
            if "delta" in rec and rec["location"] in scales:
                scales[rec["location"]].scale.change_units(rec["ts"], rec["delta"])

    def _frames(self, t1_ms: int) -> list[OutFrame]:
        out: list[OutFrame] = []
        for dev in self.devices:
            if (t1_ms - self.start_ms) % dev.frame_ms:
                continue
            body = dev.frame(self._frame_t0[dev.device_id], t1_ms, self.store)
            self._frame_t0[dev.device_id] = t1_ms
            if body is not None:
                out.append(OutFrame(dev.device_id, dev.kind, body))
        return out

    def _excursions(self, ts_ms: int) -> list[Record]:
        out: list[Record] = []
        for probe in self._probes():
            now_in = probe.in_range(ts_ms)
            if now_in != self._in_range[probe.device_id]:
                self._in_range[probe.device_id] = now_in
                out.append(
                    {
                        "ts": ts_ms,
                        "kind": str(TruthKind.EXCURSION),
                        "location": probe.location,
                        "device": probe.device_id,
                        "state": "in_range" if now_in else "out_of_range",
                        "temp_c": round(probe.probe.temp_at(ts_ms), 3),
                    }
                )
        return out

    def _probes(self) -> list[ProbeSim]:
        return [d for d in self.devices if isinstance(d, ProbeSim)]

    def _checkpoint(self, ts_ms: int) -> Record:
        self._last_checkpoint_ms = ts_ms
        return {"ts": ts_ms, "kind": str(TruthKind.CHECKPOINT), "stock": self.store.stock()}
