"""PURE state changes of confirmed tags and the movements they emit: relocate, depart, date.

`TagTracker` decides *when* a tag arrives, moves or departs; this module does it: swaps the
tag's inline evidence (its confirmed location) with `ev` (the others), finds the tags whose
observed misses exceed their adaptive window, and builds `TagMovement`s with confidence and
JSON evidence. Movement times never go backwards per tag (`Tag.last_move_ts_ms`).

Dating (event time, ms): an arrival at its first loud read there; a departure just after the last
read, or in the middle of an unobserved gap if the tag was last heard before it; a tag heard as
soon as its location's antennas came back after a gap arrived during the gap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ingest.rfid_arbitration import (
    LAST_TS,
    STRONG_TS,
    Challenger,
    add_other,
    own_mean_rssi,
    settle_location,
)
from ingest.rfid_state import Loc, Tag, read_prob_lower, window_rounds
from ingest.rfid_types import TagMoveKind, TagMovement, TagState, TrackerConfig

# ln(1/0.001): / -ln(1 - p) rounds in which a tag already present is heard with 99.9 %
_RESUME_ROUNDS = math.log(1000.0)


def read_elsewhere(
    tags: dict[str, Tag],
    tentative: dict[str, Tag],
    epc: str,
    loc: Loc,
    n: int,
    rssi: float,
    ts_ms: int,
    cfg: TrackerConfig,
) -> Tag:
    """A read of an unknown, tentative or gone tag (it becomes tentative), or of a tag confirmed
    elsewhere: a cross-read while it is still read at home (within 1 s) makes `loc` and its
    location neighbours from now on; a moved tag stops being read at home."""
    tag = tags.get(epc)
    if tag is None:
        tag = tags[epc] = tentative[epc] = Tag(epc, ts_ms)
    elif tag.state is TagState.UNKNOWN and ts_ms <= tag.last_move_ts_ms:
        return tag  # read before it went out of the store, replayed late: stale
    elif tag.state is TagState.GONE or tag.state is TagState.UNKNOWN:
        tag.state = TagState.TENTATIVE
        tag.first_ts_ms = ts_ms
        tag.n_sum = 0
        tag.ev = None
        tentative[epc] = tag
    if tag.state is TagState.TENTATIVE:
        tag.n_sum += n
        tag.first_ts_ms = min(tag.first_ts_ms, ts_ms)
        tag.last_ts_ms = max(tag.last_ts_ms, ts_ms)
    elif (
        tag.loc is not None and ts_ms - tag.last_ts_ms <= 1000 and loc.key not in tag.loc.neighbours
    ):
        tag.loc.neighbours.add(loc.key)
        loc.neighbours.add(tag.loc.key)
    add_other(tag, loc.key, n, rssi, ts_ms, cfg.arbitration_tau_ms, cfg.hysteresis_db)
    return tag


def relocate(tag: Tag, new: Loc) -> None:
    """Make `new` the tag's confirmed location: its evidence there becomes the inline one.

    The old location's evidence is dropped, not kept as a challenger's: reads from before the
    move say where the tag was, and for seconds after it (the time constant) they would still
    outscore the new location's, whose mean RSSI carries the cross-reads it was heard with
    before, and move the tag straight back. If the move was wrong, the old location reads it
    again, loud, and wins it back on fresh reads."""
    ev = tag.ev if tag.ev is not None else {}
    old = tag.loc
    if old is not None:
        old.present.pop(tag.epc, None)
    entry = ev.pop(new.key, None)
    if entry is not None:
        tag.cnt, tag.rssi_sum, tag.ev_t_ms = entry[0], entry[1], int(entry[2])
        tag.last_ts_ms = int(entry[LAST_TS])
    for other in ev.values():
        other[STRONG_TS] = 0.0  # the next loud read there starts a new run
    tag.ev = ev or None
    tag.loc = new
    tag.n_sum = 0
    tag.clock0 = tag.seen_clock = new.clock
    tag.lead_since_ms = None
    new.present[tag.epc] = tag


def movement(
    tag: Tag,
    kind: TagMoveKind,
    ts_ms: int,
    from_key: str | None,
    ch: Challenger,
    to: Loc,
    detected_ms: int,
) -> TagMovement:
    """An arrive or move to `to` (the challenger's location), dated no earlier than the last."""
    ts_ms = max(ts_ms, tag.last_move_ts_ms)
    tag.last_move_ts_ms = ts_ms
    margin = ch.score_db - ch.own_score_db if math.isfinite(ch.own_score_db) else 10.0
    conf = min(0.999, (1.0 - math.exp(-ch.cnt / 2.0)) * (1.0 - 0.5 * math.exp(-margin / 3.0)))
    evidence: dict[str, object] = {
        "reads": round(ch.cnt, 2),
        "mean_rssi_dbm": round(ch.mean_rssi_dbm, 1),
        "score_margin_db": round(margin, 1) if math.isfinite(margin) else None,
        "antennas": [f"{d}:{p}" for d, p in to.antennas],
        "detected_ms": detected_ms,
    }
    return TagMovement(tag.epc, kind, ts_ms, from_key, ch.location, max(0.0, conf), evidence)


def expired(loc: Loc, w_min: float, rounds: float, r_per_s: float, cfg: TrackerConfig) -> list[Tag]:
    """Tags of `loc` that missed their whole window of observed rounds (least recently read
    first, so the scan stops at the first tag that cannot have missed even `w_min`)."""
    gone: list[Tag] = []
    floor = loc.resume_clock
    for tag in loc.present.values():
        missed = loc.clock - max(tag.seen_clock, floor)
        if missed + 2 * rounds < w_min:
            break
        if missed >= window_rounds(read_prob_lower(tag, cfg), r_per_s, cfg):
            gone.append(tag)
    return gone


def heard_elsewhere(
    tag: Tag, ch: Challenger, now_ms: int, window_ms: float, cfg: TrackerConfig
) -> bool:
    """A silent tag moved (rather than left) if it is heard elsewhere since, still now (within
    half its window: a moved tag keeps answering) and not much weaker than at home (antennas
    differ); a few cross-reads just before it left do not make a move."""
    return (
        ch.cnt >= cfg.move_min_reads
        and ch.last_ms > tag.last_ts_ms
        and now_ms - ch.last_ms <= window_ms / 2
        and ch.mean_rssi_dbm >= own_mean_rssi(tag) - 2 * cfg.hysteresis_db
    )


def depart(tag: Tag, loc: Loc, now_ms: int, r_per_s: float, cfg: TrackerConfig) -> TagMovement:
    """Declare the tag gone from `loc` (it stays known, on no antenna)."""
    p = read_prob_lower(tag, cfg)
    missed = loc.clock - max(tag.seen_clock, loc.resume_clock)
    if tag.seen_clock < loc.resume_clock:  # last read before an outage: somewhere in it
        ts_ms = (tag.last_ts_ms + loc.resume_ms) // 2
    else:
        ts_ms = tag.last_ts_ms + int(min(1000.0, 500.0 / (p * r_per_s)))
    ts_ms = max(min(ts_ms, now_ms), tag.last_move_ts_ms)
    del loc.present[tag.epc]
    tag.loc = None
    tag.state = TagState.GONE
    tag.ev = None
    tag.last_ts_ms = now_ms
    tag.last_move_ts_ms = ts_ms
    conf = 1.0 - cfg.false_departure_delta * math.pow(1.0 - p, max(0.0, missed - 1))
    evidence: dict[str, object] = {
        "missed_rounds": round(missed, 1),
        "read_prob": round(p, 3),
        "window_rounds": round(window_rounds(p, r_per_s, cfg), 1),
        "reads": tag.n_sum,
        "antennas": [f"{d}:{p_}" for d, p_ in loc.antennas],
        "detected_ms": now_ms,
    }
    return TagMovement(tag.epc, TagMoveKind.DEPART, ts_ms, loc.key, None, conf, evidence)


def settle_ready(
    tentative: Mapping[str, Tag], locs: Mapping[str, Loc], now_ms: int, cfg: TrackerConfig
) -> tuple[list[str], list[tuple[Tag, Challenger]]]:
    """Tentative tags to forget (faded, or unheard for `max_window_ms`; kept while where they were
    heard is not observed) and those to confirm at
    their best location: heard `arrive_min_reads` times over `arrive_settle_ms` (twice that
    while the runner-up is within `hysteresis_db`), heard within the last `arrive_settle_ms`
    (a tag held while its neighbour was out, and not heard since it came back, has left), and
    not next to an unobserved location (what it heard may be cross-reads of a tag on the
    antenna that is not inventorying)."""
    forget: list[str] = []
    settle: list[tuple[Tag, Challenger]] = []
    for epc, tag in tentative.items():
        age_ms = now_ms - tag.first_ts_ms
        if age_ms < cfg.arrive_settle_ms:
            break  # kept in order of first sight: the rest are younger
        if _unobserved(tag, locs, now_ms - cfg.device_silence_ms):
            continue  # held while where it was heard is not observed (a reader outage)
        ch, lead_db = settle_location(tag, now_ms, cfg)
        if ch is None or now_ms - tag.last_ts_ms > cfg.max_window_ms:
            forget.append(epc)
        elif now_ms - tag.last_ts_ms > cfg.arrive_settle_ms:
            continue  # unheard for a settle time: what it heard is stale (it may have left)
        elif (
            tag.n_sum >= cfg.arrive_min_reads
            and (lead_db >= cfg.hysteresis_db or age_ms >= 2 * cfg.arrive_settle_ms)
            and not _near_unobserved(tag, locs, now_ms - cfg.arrive_settle_ms)
        ):
            settle.append((tag, ch))
    return forget, settle


def _unobserved(tag: Tag, locs: Mapping[str, Loc], since_ms: int) -> bool:
    """Is the tag unheard since before `since_ms`, and every location that heard it
    unobserved since then too (its reader down, or its antenna out of `ants`)?"""
    ev = tag.ev
    if ev is None or tag.last_ts_ms >= since_ms:
        return False
    return all(locs[k].seen_until_ms < since_ms for k in ev)


def _near_unobserved(tag: Tag, locs: Mapping[str, Loc], fresh_ms: int) -> bool:
    """Was the tag heard next to a location that is not observing or only just came back (see
    `unsure_at`)?"""
    assert tag.ev is not None
    return any(unsure_at(locs[key], locs, fresh_ms) for key in tag.ev)


def unsure_at(loc: Loc, locs: Mapping[str, Loc], fresh_ms: int) -> bool:
    """Can reads at `loc` be cross-reads of a tag on a neighbouring antenna that is not
    inventorying? True if a neighbour has none of its antennas in its reader's `ants`, or came
    back from a gap after `fresh_ms` (it has not yet gathered a settle time of evidence to weigh
    against what was heard while it was out). Neighbours are learned from the cross-reads of
    confirmed tags."""
    for key in loc.neighbours:
        near = locs[key]
        if not near.live_ports or (near.gap_from_ms > 0 and near.resume_ms > fresh_ms):
            return True
    return False


def arrival_ts(tag: Tag, loc: Loc, r_per_s: float, cfg: TrackerConfig) -> int:
    """When a settled tag arrived at `loc`: its first loud read there, unless that came within
    the first rounds after `loc`'s antennas came back from a gap: then the tag was already
    there, since it was first heard anywhere (cross-reads during the gap), or else since an
    unknown time in the gap, dated to its middle (as departures during a gap are)."""
    first_ms = first_ts(tag, loc.key)
    grace_ms = 1000.0 * _RESUME_ROUNDS / -math.log1p(-cfg.prior_read_prob) / r_per_s
    if loc.gap_from_ms > 0 and loc.resume_ms <= first_ms < loc.resume_ms + grace_ms:
        if tag.first_ts_ms < loc.resume_ms:
            return tag.first_ts_ms
        return (loc.gap_from_ms + loc.resume_ms) // 2
    return first_ms


def first_ts(tag: Tag, key: str) -> int:
    """The start of the tag's latest loud run at `key` (its first sight if none)."""
    entry = tag.ev.get(key) if tag.ev is not None else None
    if entry is None or entry[STRONG_TS] <= 0:
        return tag.first_ts_ms
    return int(entry[STRONG_TS])
