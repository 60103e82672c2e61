"""PURE portal direction: exit or entry from the order of inside and outside antenna reads.

A traversal is the run of one tag's reads on one portal's antennas; it ends after
`portal_gap_ms` without such reads (event time). Each side's reads are summarised by a centroid
time weighted by n and by linear RSSI power, so the true side (strong) outweighs the cross-read
from the other side (weak). Inside before outside is an exit, outside before inside an entry.
With one side only, the tag's history decides: a tag the store knows leaves, an unknown one enters
(a tag that went out is unknown again). A side whose reads are `_CROSS_ONLY_DB` weaker than the
other side's (mean dBm, weighted by n: one loud read does not make a side) was only cross-read
from the other side's zone (its own zone walked through unheard: a person in the doorway
shadowing its antenna, say; a tag in a zone is read by that zone's antenna about as loud as by
the other's in the other zone): that is one side too, and so is a side heard only in batches
that heard the tag louder on the other side (the tag was in the other's zone each time: seeds
223 and 224 of the accuracy bench, new tags walking in past a shadowed inside antenna, were told
exiting by the inside's cross-reads). The order of the centroids overrules that history only
when it is clear: centroids at least `_MIN_GAP_MS` apart, each side
heard at least twice, and the gap at least `_OVERRULE_Z` standard errors (each side's weighted
spread of read times plus the batch's time resolution, over its effective number of reads: a
few loud reads weigh as few). At a read probability of 0.3 a walking tag gives each side a
handful of reads, and their centroids can land 300 ms the wrong way round. A tag known in the
store needs `_OVERRULE_Z_KNOWN` standard errors to be told entering: it can only come in if it
went out unseen, far rarer than a 2-sd chance order of a handful of reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ingest.rfid_state import Device, Tag
from ingest.rfid_types import PortalSide, TagMoveKind, TagMovement, TagState, TrackerConfig

_MIN_GAP_MS = 150.0  # centroid gaps below this do not overrule the tag's history
_MIN_SIDE_READS = 2  # nor does a side heard once (a cross-read from the other side's zone)
_OVERRULE_Z = 2.0  # nor a gap within this many standard errors of the centroids
_OVERRULE_Z_KNOWN = 4.0  # ... for a tag known in the store (its entry needs an unseen exit)
_TS_SD_MS = 150.0  # a read's time is its batch row's last sighting: this uncertain (sd)
_CROSS_ONLY_DB = 6.0  # a side whose mean read is this much weaker than the other's: cross-reads
_OTHER = {PortalSide.INSIDE: PortalSide.OUTSIDE, PortalSide.OUTSIDE: PortalSide.INSIDE}


class Traversal:
    """Reads of one tag on one portal; `w_*` are weights, `wt_*` weight*time sums (ms),
    `wtt_*` weight*time**2 sums and `wsq_*` sums of squared per-read weights (the spread and
    the effective number of reads of each side); `dbm_*` each side's sum of n * RSSI (dBm)
    and `dbm_n_*` the reads in it (0 in a traversal restored from an older snapshot);
    `batches_*` the batches that heard each side, `shaded_*` those of them that heard the tag
    louder on the other side (both 0 in a traversal restored from an older snapshot)."""

    __slots__ = (
        "batches_in",
        "batches_out",
        "dbm_in",
        "dbm_n_in",
        "dbm_n_out",
        "dbm_out",
        "first_ts_ms",
        "last_ts_ms",
        "n_in",
        "n_out",
        "origin_ms",
        "portal",
        "shaded_in",
        "shaded_out",
        "w_in",
        "w_out",
        "wsq_in",
        "wsq_out",
        "wt_in",
        "wt_out",
        "wtt_in",
        "wtt_out",
    )

    def __init__(self, portal: str, ts_ms: int) -> None:
        self.portal = portal
        self.origin_ms = ts_ms  # fixed origin of the weighted time sums
        self.first_ts_ms = ts_ms
        self.last_ts_ms = ts_ms
        self.n_in = self.n_out = 0
        self.w_in = self.w_out = 0.0
        self.wt_in = self.wt_out = 0.0
        self.wtt_in = self.wtt_out = 0.0
        self.wsq_in = self.wsq_out = 0.0
        self.dbm_in = self.dbm_out = 0.0
        self.dbm_n_in = self.dbm_n_out = 0
        self.batches_in = self.batches_out = 0
        self.shaded_in = self.shaded_out = 0

    def add(self, side: PortalSide, n: int, rssi_dbm: float, ts_ms: int) -> None:
        power = math.pow(10.0, rssi_dbm / 10.0) * 1e6
        w, dt = n * power, ts_ms - self.origin_ms
        if side is PortalSide.INSIDE:
            self.dbm_in += n * rssi_dbm
            self.dbm_n_in += n
            self.n_in += n
            self.w_in += w
            self.wt_in += w * dt
            self.wtt_in += w * dt * dt
            self.wsq_in += n * power * power
        else:
            self.dbm_out += n * rssi_dbm
            self.dbm_n_out += n
            self.n_out += n
            self.w_out += w
            self.wt_out += w * dt
            self.wtt_out += w * dt * dt
            self.wsq_out += n * power * power
        self.first_ts_ms = min(self.first_ts_ms, ts_ms)
        self.last_ts_ms = max(self.last_ts_ms, ts_ms)

    def note_batch(self, side: PortalSide, *, shaded: bool) -> None:
        """Count a batch that heard the tag on `side`; `shaded`: louder on the other side."""
        if side is PortalSide.INSIDE:
            self.batches_in += 1
            self.shaded_in += int(shaded)
        else:
            self.batches_out += 1
            self.shaded_out += int(shaded)

    def centroid_var_ms2(self) -> float:
        """Variance of the centroid gap: each side's weighted spread of read times plus the
        time resolution, over its effective number of reads (Kish: w**2 / sum of w**2)."""
        total = 0.0
        for w, wt, wtt, wsq in (
            (self.w_in, self.wt_in, self.wtt_in, self.wsq_in),
            (self.w_out, self.wt_out, self.wtt_out, self.wsq_out),
        ):
            spread = max(0.0, wtt / w - (wt / w) ** 2)
            n_eff = w * w / wsq if wsq > 0.0 else 1.0
            total += (spread + _TS_SD_MS**2) / max(1.0, n_eff)
        return total

    def cross_only(self) -> bool:
        """Was one side heard only far weaker than the other, or only ever in batches that
        heard the tag louder on the other side (cross-reads alone)?"""
        if 0 < self.shaded_in == self.batches_in or 0 < self.shaded_out == self.batches_out:
            return True
        if self.dbm_n_in == 0 or self.dbm_n_out == 0:
            return False
        gap_db = self.dbm_in / self.dbm_n_in - self.dbm_out / self.dbm_n_out
        return abs(gap_db) >= _CROSS_ONLY_DB


Traversals = dict[str, tuple[Traversal, Device]]  # epc -> its open traversal, on that reader
Row = tuple[str, PortalSide, str, int, float, int]  # epc, side, portal, n, rssi (dBm), ts (ms)


def read_batch(traversals: Traversals, dev: Device, rows: list[Row]) -> None:
    """Add one batch's portal rows to their tags' traversals, noting for each side heard whether
    the other side heard the tag louder in the same batch (the tag was in the other's zone)."""
    loudest: dict[tuple[str, str, PortalSide], float] = {}
    for e, side, key, n, rssi_dbm, ts_ms in rows:
        _read(traversals, dev, e, side, key, n, rssi_dbm, ts_ms)
        k = (e, key, side)
        loudest[k] = max(rssi_dbm, loudest.get(k, rssi_dbm))
    for (e, key, side), dbm in loudest.items():
        other = loudest.get((e, key, _OTHER[side]))
        tr = traversals[e][0]
        if tr.portal == key:
            tr.note_batch(side, shaded=other is not None and dbm < other)


def _read(
    traversals: Traversals,
    dev: Device,
    epc: str,
    side: PortalSide,
    portal: str,
    n: int,
    rssi_dbm: float,
    ts_ms: int,
) -> None:
    """Add a portal read to the tag's open traversal (a new one on another portal)."""
    entry = traversals.get(epc)
    if entry is None or entry[0].portal != portal:
        entry = traversals[epc] = (Traversal(portal, ts_ms), dev)
    entry[0].add(side, n, rssi_dbm, ts_ms)


def finished(
    traversals: Traversals, now_ms: int, cfg: TrackerConfig
) -> list[tuple[str, Traversal]]:
    """Remove and return the traversals that ended: `portal_gap_ms` of the portal reader's time
    without their tag, or that plus `device_silence_ms` of the watermark (a silent reader)."""
    gap, done = cfg.portal_gap_ms, []
    for epc, (tr, dev) in traversals.items():
        frontier = dev.frontier_ms or 0
        end_ms = tr.last_ts_ms + gap
        if frontier >= end_ms or now_ms >= end_ms + cfg.device_silence_ms:
            done.append((epc, tr))
    for epc, _ in done:
        del traversals[epc]
    return done


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
    if tr.w_in > 0 and tr.w_out > 0 and not tr.cross_only():
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
        se_ms = math.sqrt(tr.centroid_var_ms2())
        z_needed = _OVERRULE_Z_KNOWN if known_inside else _OVERRULE_Z
        evidence["centroid_se_ms"] = round(se_ms)
        if (
            abs(gap_ms) < max(_MIN_GAP_MS, z_needed * se_ms)
            or min(tr.n_in, tr.n_out) < _MIN_SIDE_READS
        ):
            return Crossing(known_inside, ts, 0.5, evidence)
        return Crossing(gap_ms > 0, ts, min(0.95, 0.5 + 0.45 * strength), evidence)
    ts = (tr.first_ts_ms + tr.last_ts_ms) // 2
    evidence["one_side"] = True
    return Crossing(known_inside, ts, 0.6, evidence)


def cross(tags: dict[str, Tag], epc: str, tr: Traversal, out: list[TagMovement]) -> bool:
    """Emit the movements of a finished traversal; True when the tag left the store (the
    tracker forgets it). An unknown tag that enters becomes known (gone: on no antenna yet)."""
    tag = tags.get(epc)
    inside = tag is not None and tag.state is not TagState.UNKNOWN
    crossing = decide(tr, known_inside=inside)
    ts_ms = max(crossing.ts_ms, tag.last_move_ts_ms if tag is not None else 0)
    if tag is None:
        tag = tags[epc] = Tag(epc, ts_ms)
    if crossing.exit and tag.loc is not None:
        out.append(exit_departure(tag, tr, crossing, ts_ms))
    # out of the store (UNKNOWN, kept as a tombstone: reads older than the exit, replayed late by
    # a gateway that was offline, are stale), or in it on no antenna (GONE)
    tag.state = TagState.UNKNOWN if crossing.exit else TagState.GONE
    tag.loc = tag.ev = None
    tag.last_move_ts_ms = ts_ms
    tag.last_ts_ms = max(tag.last_ts_ms, ts_ms)
    out.append(crossing_movement(epc, tr, crossing, ts_ms))
    return crossing.exit


def crossing_movement(epc: str, tr: Traversal, crossing: Crossing, ts_ms: int) -> TagMovement:
    """The portal movement itself: `exit` from the portal, or `entry` to it."""
    if crossing.exit:
        kind, frm, to = TagMoveKind.EXIT, tr.portal, None
    else:
        kind, frm, to = TagMoveKind.ENTRY, None, tr.portal
    return TagMovement(epc, kind, ts_ms, frm, to, crossing.confidence, crossing.evidence)


def exit_departure(tag: Tag, tr: Traversal, crossing: Crossing, ts_ms: int) -> TagMovement:
    """A tag still confirmed on a shelf went out: it departs that shelf first (taken from the
    tracker's location index here), just after its last read there if the shelf was observed
    until the exit, else (reader down, or its batches still to come) halfway to the exit."""
    loc = tag.loc
    assert loc is not None
    if loc.seen_until_ms >= ts_ms:
        dep = min(ts_ms, tag.last_ts_ms + 500)
    else:
        dep = (tag.last_ts_ms + ts_ms) // 2
    dep = max(tag.last_move_ts_ms, dep)
    loc.present.pop(tag.epc, None)
    evidence: dict[str, object] = {"reason": "portal_exit", "portal": tr.portal}
    return TagMovement(
        tag.epc, TagMoveKind.DEPART, dep, loc.key, None, crossing.confidence, evidence
    )
