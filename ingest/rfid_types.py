"""PURE value types of the RFID tracker: antennas, configuration, movements and tag states.

Re-exported by `ingest.rfid`; import them from there. Times are integer epoch milliseconds (event
time, from the contract's `t0`, `t1`, `ts`), RSSI is dBm, probabilities are per inventory round.

Error family::

    RfidError (ValueError)
    └── RfidConfigError      a TrackerConfig or antenna list that cannot work
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum


class RfidError(ValueError):
    """Base of the errors raised by the RFID tracker."""


class RfidConfigError(RfidError):
    """A configuration value or antenna list is invalid."""


class PortalSide(StrEnum):
    INSIDE = "inside"
    OUTSIDE = "outside"


@dataclass(frozen=True, slots=True)
class AntennaSpec:
    """One antenna port of one reader and the location it watches (`side` set on portals only)."""

    device: str
    port: int
    location: str
    side: PortalSide | None = None


class TagMoveKind(StrEnum):
    ARRIVE = "arrive"  # unseen -> L
    DEPART = "depart"  # L -> unseen
    MOVE = "move"  # L1 -> L2
    EXIT = "exit"  # through a portal, inside -> outside (to_location None)
    ENTRY = "entry"  # through a portal, outside -> inside (from_location None)


class TagState(StrEnum):
    """What the tracker believes about one tag (see `TagTracker.tag_state`)."""

    UNKNOWN = "unknown"  # never seen, or forgotten after it left the store
    TENTATIVE = "tentative"  # heard, location not settled yet
    PRESENT = "present"  # confirmed at a location that is observable now
    NOT_OBSERVABLE = "not_observable"  # confirmed at a location whose antennas are not observing
    GONE = "gone"  # departed: in the store but not on any antenna (e.g. in a basket)


@dataclass(frozen=True, slots=True)
class TagMovement:
    """One movement of one tag, at its best-estimate event time `ts_ms`.

    Portal movements carry the portal location: `exit` has `from_location=<portal>` and
    `to_location=None`, `entry` has `from_location=None` and `to_location=<portal>`. They never
    change shelf stock; a tag still confirmed on a shelf when it exits departs first.
    """

    epc: str
    kind: TagMoveKind
    ts_ms: int
    from_location: str | None
    to_location: str | None
    confidence: float  # 0..1
    evidence: Mapping[str, object]  # JSON-serialisable


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    """Tuning of `TagTracker`; validated on construction.

    false_departure_delta: bound on the chance that a present tag is falsely declared gone, per
        tag-hour of presence. The per-tag window w (rounds) is the shortest whose runs of misses
        (independent ones, 3600*R*p*(1-p)**w per tag-hour, and deep fades) stay below delta;
        R = rounds/s, p = the tag's lower-bound read probability per round (`ingest.rfid_window`).
    fade_rate_per_h / fade_mean_ms / fade_read_factor: the channel's deep fades of one tag (a
        multipath null, a hand in front of it): how often they begin per tag-hour, their mean
        length (exponential), and the share of p the tag is read with meanwhile. The defaults
        are firmware_sim's channel; 0 fades per hour gives the independent-miss window alone.
    rounds_per_s: inventory rounds per second per antenna; None = estimate from the largest `n`.
    hysteresis_db: score margin (dB) a challenger location needs before a tag is moved there;
        a location's score is its decayed mean RSSI + count_weight_db * ln(decayed reads + 0.5).
    move_dwell_ms / move_min_reads: a challenger must lead that long, with that many decayed reads.
    arbitration_tau_ms: time constant of the per-location evidence (read counts decay with it).
    min_window_ms / max_window_ms: clamp of the adaptive departure window (observed time).
    arrive_settle_ms: how long a newly heard tag collects evidence before its location is chosen
        (twice that while the best location leads the runner-up by less than hysteresis_db).
    device_silence_ms: a device without batches for this long (event time) is not observing.
    portal_gap_ms: a portal traversal ends after this long without portal reads.
    prior_read_prob, prior_rounds: Beta prior of a tag's read probability (pseudo-rounds).
    """

    false_departure_delta: float = 1e-4
    rounds_per_s: float | None = None
    hysteresis_db: float = 4.0
    count_weight_db: float = 2.0
    arbitration_tau_ms: int = 3000
    move_dwell_ms: int = 1000
    move_min_reads: float = 2.0
    fade_rate_per_h: float = 4.0
    fade_mean_ms: int = 300
    fade_read_factor: float = 0.1
    min_window_ms: int = 2500
    max_window_ms: int = 60_000
    arrive_settle_ms: int = 3000
    arrive_min_reads: int = 3
    device_silence_ms: int = 5000
    portal_gap_ms: int = 2500
    prior_read_prob: float = 0.3
    prior_rounds: float = 8.0
    gap_tolerance_ms: int = 50

    def __post_init__(self) -> None:
        for problem in _config_problems(self):
            raise RfidConfigError(problem)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, object]) -> TrackerConfig:
        """Build from a plain mapping; unknown keys are rejected."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise RfidConfigError(f"unknown TrackerConfig keys: {unknown}")
        return cls(**raw)  # type: ignore[arg-type]


def _config_problems(cfg: TrackerConfig) -> list[str]:
    problems: list[str] = []
    if not 0.0 < cfg.false_departure_delta < 1.0:
        problems.append("false_departure_delta must be in (0, 1)")
    if cfg.rounds_per_s is not None and not (0.0 < cfg.rounds_per_s <= 1000.0):
        problems.append("rounds_per_s must be in (0, 1000] or None")
    if not (math.isfinite(cfg.hysteresis_db) and cfg.hysteresis_db >= 0.0):
        problems.append("hysteresis_db must be >= 0")
    problems += _fade_problems(cfg)
    if not 0 < cfg.min_window_ms <= cfg.max_window_ms:
        problems.append("need 0 < min_window_ms <= max_window_ms")
    if cfg.move_min_reads <= 0.0:
        problems.append("move_min_reads must be > 0")
    if cfg.count_weight_db < 0.0 or cfg.move_dwell_ms < 0:
        problems.append("count_weight_db and move_dwell_ms must be >= 0")
    for name in ("arbitration_tau_ms", "device_silence_ms", "portal_gap_ms"):
        if getattr(cfg, name) <= 0:
            problems.append(f"{name} must be > 0")
    if cfg.arrive_settle_ms < 0 or cfg.gap_tolerance_ms < 0 or cfg.arrive_min_reads < 1:
        problems.append("arrive_settle_ms, gap_tolerance_ms >= 0 and arrive_min_reads >= 1")
    if not (0.0 < cfg.prior_read_prob < 1.0 and cfg.prior_rounds > 0.0):
        problems.append("prior_read_prob must be in (0, 1) and prior_rounds > 0")
    return problems


def _fade_problems(cfg: TrackerConfig) -> list[str]:
    problems: list[str] = []
    if not (math.isfinite(cfg.fade_rate_per_h) and cfg.fade_rate_per_h >= 0.0):
        problems.append("fade_rate_per_h must be >= 0")
    if cfg.fade_mean_ms <= 0 or not 0.0 <= cfg.fade_read_factor < 1.0:
        problems.append("fade_mean_ms must be > 0 and fade_read_factor in [0, 1)")
    return problems
