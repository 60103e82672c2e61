"""The shape of a scenario: a site, its initial stock, device physics, behaviour and a script.

A ``Scenario`` is data. ``site`` is the commissioning file (``shelfsense.site.SiteFile``) the
simulated store is built from and ``sitegen`` writes out; ``stock`` says what is where at the
start; ``physics`` sets how good the devices are; ``activity`` (optional) is the random behaviour
of shoppers and staff, as rates per hour of store time; ``script`` holds actions at fixed offsets
(ms from the start of the run). Everything random is drawn from the run's seed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from firmware_sim.actions import Action
from shelfsense.site import SiteFile

PORTAL_SIDES = ("inside", "outside")


@dataclass(frozen=True, slots=True)
class Stocking:
    """``qty`` items of ``sku`` at ``location`` at the start (units on a weight shelf)."""

    location: str
    sku: str
    qty: int


@dataclass(frozen=True, slots=True)
class Physics:
    """How the simulated devices behave (see the device modules for the models)."""

    read_prob: tuple[float, float] = (0.5, 0.95)  # per tag per inventory round
    cross_read_rate: float = 0.05
    fades: bool = True  # occlusions and per-tag deep fades
    reader_outages_per_h: float = 0.0
    rounds_per_s: float = 4.0
    scale_hz: float = 10.0
    scale_noise_g: float = 1.5
    scale_disturbances: bool = True  # vibration bursts and leans
    probe_noise_c: float = 0.05
    probe_tau_s: float = 300.0  # thermal lag of the cooler air
    probe_period_s: float = 10.0


@dataclass(frozen=True, slots=True)
class Activity:
    """Random behaviour of people in the store; times in store seconds."""

    shoppers_per_h: float = 30.0
    stops_per_shopper: tuple[int, int] = (1, 4)  # inclusive
    items_per_stop: tuple[int, int] = (1, 2)  # inclusive
    misplace_prob: float = 0.08  # a shopper leaves one item on another shelf
    restock_every_s: float = 600.0  # a staff round refills homes ...
    restock_below: float = 0.75  # ... holding less than this fraction of their start qty
    tidy_every_s: float = 900.0  # a staff round returns misplaced items to their home shelf
    tidy_wrong_prob: float = 0.15  # ... and now and then puts one on a wrong shelf
    delivery_every_s: float = 1800.0  # a delivery through the portal into storage
    delivery_qty: int = 10


@dataclass(frozen=True, slots=True)
class FrameMs:
    """Length of one device frame per kind (ms); rfid frames are one sim step long."""

    weight: int = 1000
    env: int = 30_000


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    site: SiteFile
    stock: tuple[Stocking, ...]
    physics: Physics = Physics()
    adjacency: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # cross-read pairs
    activity: Activity | None = None
    script: tuple[Action, ...] = ()  # ts_ms are offsets from the start of the run
    duration_s: float = 3600.0
    step_ms: int = 250
    frame_ms: FrameMs = FrameMs()
    checkpoint_s: float = 60.0
    gateway: str = "gw-1"

    def homes(self) -> dict[tuple[str, str], int]:
        """(location, sku) -> start qty for every stocked place that is not storage."""
        storage = {loc.id for loc in self.site.locations if loc.kind == "storage"}
        return {(s.location, s.sku): s.qty for s in self.stock if s.location not in storage}

    def storage(self) -> str:
        return next(loc.id for loc in self.site.locations if loc.kind == "storage")

    def portal(self) -> str:
        return next(loc.id for loc in self.site.locations if loc.kind == "portal")

    def outside(self) -> str:
        return next(loc.id for loc in self.site.locations if loc.kind == "outside")
