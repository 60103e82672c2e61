"""shelfsense firmware_sim: a simulated store whose devices behave like real ones.

A scenario (``scenarios``) describes a site, its stock, device physics and what people do.
``SimStore`` (pure) knows where every item is and logs ground truth; ``Simulation`` (pure)
steps event time and asks the devices (RFID readers, weight scales, cooler probes) for their
frames; ``run_sim`` paces it against the wall clock, serves the frames on the device bus
(``DeviceBus``, JSON lines over TCP) and writes the truth JSONL. ``shelfsense sim`` is the CLI.
"""

from firmware_sim.actions import Action, Carry, Deliver, Note, Put, Setpoint, Take, TruthKind
from firmware_sim.bus import DeviceBus
from firmware_sim.runner import SimConfig, SimResult, run_sim
from firmware_sim.scenario import Activity, Physics, Scenario, Stocking
from firmware_sim.scenarios import SCENARIOS, get_scenario
from firmware_sim.simulation import OutFrame, Simulation, StepResult
from firmware_sim.sitegen import gateway_config, gateway_yaml, site_yaml
from firmware_sim.store import SimStore, StoreError, replay, stock_key
from firmware_sim.truth import TruthLog, read_truth

__all__ = [
    "SCENARIOS",
    "Action",
    "Activity",
    "Carry",
    "Deliver",
    "DeviceBus",
    "Note",
    "OutFrame",
    "Physics",
    "Put",
    "Scenario",
    "Setpoint",
    "SimConfig",
    "SimResult",
    "SimStore",
    "Simulation",
    "StepResult",
    "Stocking",
    "StoreError",
    "Take",
    "TruthKind",
    "TruthLog",
    "gateway_config",
    "gateway_yaml",
    "get_scenario",
    "read_truth",
    "replay",
    "run_sim",
    "site_yaml",
    "stock_key",
]
