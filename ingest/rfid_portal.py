"""PURE portal direction: exit or entry from the order of inside and outside antenna reads.

A traversal is the run of one tag's reads on one portal's antennas; it ends after
`portal_gap_ms` without such reads (event time). Each side's reads are summarised by a centroid
time weighted by n and by linear RSSI power, so the true side (strong) outweighs the cross-read
from the other side (weak). Inside before outside is an exit, outside before inside an entry.
With one side only, the tag's history decides: a tag the store knows leaves, an unknown one enters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ingest.rfid_types import PortalSide

_MIN_GAP_MS = 150.0  # centroid gaps below this do not overrule the tag's history


class Traversal:
    """Reads of one tag on one portal; `w_*` are weights, `wt_*` weight*time sums (ms)."""

    __slots__ = (
        "first_ts_ms",
        "last_ts_ms",
        "n_in",
        "n_out",
        "origin_ms",
        "portal",
        "w_in",
        "w_out",
        "wt_in",
        "wt_out",
    )

    def __init__(self, portal: str, ts_ms: int) -> None:
        self.portal = portal
        self.origin_ms = ts_ms  # fixed origin of the weighted time sums
        self.first_ts_ms = ts_ms
        self.last_ts_ms = ts_ms
        self.n_in = self.n_out = 0
        self.w_in = self.w_out = 0.0
        self.wt_in = self.wt_out = 0.0

    def add(self, side: PortalSide, n: int, rssi_dbm: float, ts_ms: int) -> None:
        w = n * math.pow(10.0, rssi_dbm / 10.0) * 1e6
        if side is PortalSide.INSIDE:
            self.n_in += n
            self.w_in += w
            self.wt_in += w * (ts_ms - self.origin_ms)
        else:
            self.n_out += n
            self.w_out += w
            self.wt_out += w * (ts_ms - self.origin_ms)
        self.first_ts_ms = min(self.first_ts_ms, ts_ms)
        self.last_ts_ms = max(self.last_ts_ms, ts_ms)


@dataclass(frozen=True, slots=True)
class Crossing:
    exit: bool
    ts_ms: int
    confidence: float
    evidence: dict[str, object]


def decide(tr: Traversal, *, known_inside: bool) -> Crossing:
    """Direction of a finished traversal; `known_inside`: the tag was known in the store."""
    evidence: dict[str, object] = {
        "portal": tr.portal,
        "reads_inside": tr.n_in,
        "reads_outside": tr.n_out,
        "window_ms": tr.last_ts_ms - tr.first_ts_ms,
    }
    if tr.w_in > 0 and tr.w_out > 0:
        c_in = tr.origin_ms + tr.wt_in / tr.w_in
        c_out = tr.origin_ms + tr.wt_out / tr.w_out
        gap_ms = c_out - c_in
        evidence["centroid_gap_ms"] = round(gap_ms)
        ts = int((c_in + c_out) / 2)
        strength = (1.0 - 0.5 * math.exp(-abs(gap_ms) / 300.0)) * (
            1.0 - math.exp(-min(tr.n_in, tr.n_out) / 2.0)
        )
        if (gap_ms > 0) == known_inside:
            return Crossing(known_inside, ts, min(0.999, 0.6 + 0.4 * strength), evidence)
        if abs(gap_ms) < _MIN_GAP_MS:
            return Crossing(known_inside, ts, 0.5, evidence)
        return Crossing(gap_ms > 0, ts, min(0.95, 0.5 + 0.45 * strength), evidence)
    ts = (tr.first_ts_ms + tr.last_ts_ms) // 2
    evidence["one_side"] = True
    return Crossing(known_inside, ts, 0.6, evidence)
