"""PURE JSON (de)serialisation of the tracker's state: tags, location clocks, device frontiers.

The snapshot is plain lists and dicts of str/int/float/bool/None. Location `present` order (least
recently read first) is kept, since departure scans rely on it. Format version 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ingest.rfid_portal import Traversal
from ingest.rfid_state import MIN_RATE_EVIDENCE, Device, Loc, Tag
from ingest.rfid_types import RfidError, TagState

VERSION = 1
_TR_FIELDS = (
    "first_ts_ms",
    "last_ts_ms",
    "n_in",
    "n_out",
    "origin_ms",
    "w_in",
    "w_out",
    "wt_in",
    "wt_out",
    "wtt_in",  # the last four are missing from snapshots written before them (0.0 then)
    "wtt_out",
    "wsq_in",
    "wsq_out",
    "dbm_in",  # these four are missing from snapshots written before them (0 then)
    "dbm_out",
    "dbm_n_in",
    "dbm_n_out",
    "batches_in",  # these four are missing from snapshots written before them (0: not judged)
    "batches_out",
    "shaded_in",
    "shaded_out",
)


def dump(
    tags: Mapping[str, Tag],
    tentative: Mapping[str, Tag],
    locs: Mapping[str, Loc],
    devices: Mapping[str, Device],
    traversals: Mapping[str, tuple[Traversal, Device]],
    clocks: tuple[int, int],
) -> dict[str, object]:
    """`clocks`: the watermark and the time gone tags were last pruned (ms)."""
    return {
        "version": VERSION,
        "now_ms": clocks[0],
        "last_prune_ms": clocks[1],
        "tags": [_dump_tag(t) for t in tags.values()],
        "tentative": list(tentative),
        "locations": {
            k: [
                v.clock,
                v.resume_clock,
                v.resume_ms,
                v.rate,
                list(v.present),
                v.seen_until_ms,
                v.gap_from_ms,
                sorted(v.neighbours),
                [v.recent_reads, v.recent_expected, v.rate_evidence, v.long_reads, v.long_expected],
                [v.raw_rounds, v.reads_total, [list(e) for e in v.trail], v.shadow_ms],
                dict(sorted(v.near_hits.items())),
            ]
            for k, v in locs.items()
        },
        "devices": {
            k: [d.frontier_ms, sorted(d.last_ants), d.offline, d.rounds_per_s, list(d.learn)]
            for k, d in devices.items()
        },
        "traversals": [
            [epc, tr.portal, dev.device, [getattr(tr, f) for f in _TR_FIELDS]]
            for epc, (tr, dev) in traversals.items()
        ],
    }


def _dump_tag(t: Tag) -> list[object]:
    return [
        t.epc,
        t.state.value,
        t.loc.key if t.loc is not None else None,
        [
            t.first_ts_ms,
            t.last_ts_ms,
            t.last_move_ts_ms,
            t.ev_t_ms,
            t.n_sum,
            t.lead_since_ms,
            t.left_ts_ms,
        ],
        [t.seen_clock, t.clock0, t.cnt, t.rssi_sum],
        t.ev,
    ]


def load(
    snap: Mapping[str, Any],
    tags: dict[str, Tag],
    tentative: dict[str, Tag],
    locs: Mapping[str, Loc],
    devices: Mapping[str, Device],
    traversals: dict[str, tuple[Traversal, Device]],
) -> tuple[int, int]:
    """Fill the empty containers from `snap`; returns the clocks given to `dump`. Tentative
    tags keep their order of first sight (settling relies on it)."""
    if snap.get("version") != VERSION:
        raise RfidError(f"unsupported tracker snapshot version {snap.get('version')!r}")
    for raw in snap["tags"]:
        tag = _load_tag(raw, locs)
        tags[tag.epc] = tag
    _load_locations(snap["locations"], tags, locs)
    _load_devices(snap["devices"], devices)
    for epc, portal, device, values in snap.get("traversals", []):
        if device in devices:
            tr = Traversal(portal, 0)
            if len(values) > len(_TR_FIELDS):
                raise RfidError(
                    f"traversal of {epc}: {len(values)} values, expected at most {len(_TR_FIELDS)}"
                )
            for f, v in zip(_TR_FIELDS, values, strict=False):
                setattr(tr, f, v)
            traversals[epc] = (tr, devices[device])
    order = snap.get("tentative")
    if order is None:  # written before the order was kept
        order = [e for e, t in tags.items() if t.state is TagState.TENTATIVE]
    tentative.update((e, tags[e]) for e in order if e in tags)
    now_ms = int(snap["now_ms"])
    return now_ms, int(snap.get("last_prune_ms", now_ms))


def _load_locations(raw: Mapping[str, Any], tags: dict[str, Tag], locs: Mapping[str, Loc]) -> None:
    for key, (clock, resume_clock, resume_ms, rate, order, *gap) in raw.items():
        loc = locs.get(key)
        if loc is None:
            continue
        loc.clock, loc.resume_clock = float(clock), float(resume_clock)
        loc.resume_ms, loc.rate = int(resume_ms), float(rate)
        loc.rate_evidence = MIN_RATE_EVIDENCE if loc.rate > 0 else 0.0  # older snapshots
        if gap:
            loc.seen_until_ms, loc.gap_from_ms = int(gap[0]), int(gap[1])
            loc.neighbours = {k for k in gap[2] if k in locs}
        if len(gap) > 3:
            loc.recent_reads, loc.recent_expected = float(gap[3][0]), float(gap[3][1])
            loc.rate_evidence = float(gap[3][2])
            if len(gap[3]) > 3:  # older snapshots start the long memory afresh
                loc.long_reads, loc.long_expected = float(gap[3][3]), float(gap[3][4])
        if len(gap) > 4:  # older snapshots start the trail of batches afresh
            loc.raw_rounds, loc.reads_total = float(gap[4][0]), float(gap[4][1])
            loc.trail.extend((float(c), float(r), float(n)) for c, r, n in gap[4][2])
            loc.shadow_ms = int(gap[4][3])
        if len(gap) > 5:  # older snapshots count the cross-reads towards neighbours afresh
            loc.near_hits = {k: int(n) for k, n in gap[5].items() if k in locs}
        for epc in order:
            if epc in tags and tags[epc].loc is loc:
                loc.present[epc] = tags[epc]


def _load_devices(raw: Mapping[str, Any], devices: Mapping[str, Device]) -> None:
    for key, (frontier, ants, offline, rounds_per_s, *rest) in raw.items():
        dev = devices.get(key)
        if dev is None:
            continue
        if rest:  # snapshots before rounds learning over short batches have none
            dev.learn = [int(x) for x in rest[0]]
        dev.frontier_ms, dev.last_ants = frontier, frozenset(ants)
        dev.offline, dev.rounds_per_s = bool(offline), float(rounds_per_s)
        dev.dark = frontier is not None and len(dev.last_ants & dev.ports.keys()) < len(dev.ports)
        for port in dev.last_ants & dev.ports.keys():
            dev.ports[port][1].live_ports.add((key, port))


def _load_tag(raw: list[Any], locs: Mapping[str, Loc]) -> Tag:
    epc, state, loc_key, ints, floats, ev = raw
    tag = Tag(epc, int(ints[0]))
    tag.state = TagState(state)
    tag.loc = locs.get(loc_key) if loc_key is not None else None
    if tag.loc is None and tag.state is TagState.PRESENT:
        tag.state = TagState.GONE  # its location was removed from the site
    tag.first_ts_ms, tag.last_ts_ms, tag.last_move_ts_ms, tag.ev_t_ms, tag.n_sum = ints[:5]
    tag.lead_since_ms = ints[5]
    tag.left_ts_ms = int(ints[6]) if len(ints) > 6 else 0  # missing from older snapshots
    tag.seen_clock, tag.clock0, tag.cnt, tag.rssi_sum = (float(x) for x in floats)
    tag.ev = {k: [float(x) for x in v] for k, v in ev.items()} if ev else None
    return tag
